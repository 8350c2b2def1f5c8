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
    "mobile_key.sms.heading": "Or activate with a code by SMS",
    "mobile_key.sms.text": "In the Mobile Key app choose Activate and enter your username and "
    "password. We send a 6-digit activation code by SMS to a phone number on record (or to a "
    "number you add with its country); enter it in the app, then choose your app PIN and a "
    "recovery PIN. No QR code is needed.",
    "mobile_key.cli.heading": "On a computer: the securelogin key command",
    "mobile_key.cli.text": "The soft Mobile Key also runs in a terminal; DIR is its folder (its "
    '"phone"). Activate it with the SMS code, or with the link of a QR code above, then '
    "approve a login by the number shown on the screen, or answer a challenge offline:",
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
    "mobile_key.sms.heading": "或通过短信验证码激活",
    "mobile_key.sms.text": "在移动验证程序中选择激活，输入您的用户名和密码。我们会通过短信向您"
    "登记的手机号码（或您添加的号码及其国家）发送6位激活码；在程序中输入该激活码，"
    "然后设置应用PIN码和恢复PIN码。无需二维码。",
    "mobile_key.cli.heading": "在电脑上：securelogin key 命令",
    "mobile_key.cli.text": "软件版移动验证程序也可在终端中运行；DIR 是它的文件夹（即它的"
    "“手机”）。可用短信验证码或上方二维码的链接激活，然后按登录屏幕上显示的数字确认登录，"
    "或离线回答挑战码：",
}
