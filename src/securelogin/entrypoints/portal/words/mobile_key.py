"""Words of the mobile key: push wait, fallback, activation (issue 4), in English and
Simplified Chinese (same keys in both).  Wording follows the IBKR Mobile (IB Key)
articles of reference/seed-articles.txt.
"""

from __future__ import annotations

EN: dict[str, str] = {
    "verify.push.resend": "Send the notification again",
    "mobile_key.title": "Mobile Key",
    "mobile_key.intro": "The Mobile Key app on your smartphone confirms your logins and "
    "withdrawals: approve the notification and pick the number shown on the screen.",
    "mobile_key.state": "Mobile Key on this username",
    "mobile_key.none": "No Mobile Key is active on this username.",
    "mobile_key.active": "Active",
    "mobile_key.activate": "Activate the Mobile Key by QR code",
    "mobile_key.qr.lead": "Open the Mobile Key app, choose Activate and scan this QR code. "
    "It can be used once and is valid for 10 minutes.",
    "mobile_key.qr.link": "Or open this link on the phone:",
    "mobile_key.qr.expires": "Valid until {expires} UTC.",
    "mobile_key.app.title": "Install the app on your phone",
    "mobile_key.app.lead": "Scan this QR code with your phone's camera, or open the address "
    "below in its browser, then choose Install (or Add to Home Screen).",
    "mobile_key.one_phone": "A username's Mobile Key lives on one phone at a time: activating "
    "it on a new phone deactivates the old one.",
}

ZH_CN: dict[str, str] = {
    "verify.push.resend": "重新发送通知",
    "mobile_key.title": "移动验证程序（Mobile Key）",
    "mobile_key.intro": "智能手机上的移动验证程序用于确认您的登录和取款：请确认通知，"
    "并选择登录屏幕上显示的数字。",
    "mobile_key.state": "此用户名的移动验证程序",
    "mobile_key.none": "此用户名尚未激活移动验证程序。",
    "mobile_key.active": "已激活",
    "mobile_key.activate": "通过二维码激活移动验证程序",
    "mobile_key.app.title": "在手机上安装应用",
    "mobile_key.app.lead": "请用手机相机扫描此二维码，或在手机浏览器中打开下方地址，"
    "然后选择“安装”（或“添加到主屏幕”）。",
    "mobile_key.qr.lead": "打开移动验证程序，选择激活并扫描此二维码。"
    "该二维码仅可使用一次，有效期为10分钟。",
    "mobile_key.qr.link": "或在手机上打开此链接：",
    "mobile_key.qr.expires": "有效期至 {expires}（UTC）。",
    "mobile_key.one_phone": "一个用户名的移动验证程序同一时间只能在一部手机上使用："
    "在新手机上激活将停用旧手机上的验证程序。",
}
