"""Words of passkeys (issue 16 §2) in English and Simplified Chinese (same keys)."""

from __future__ import annotations

EN: dict[str, str] = {
    "kind.passkey": "Passkey",
    "settings.link.passkeys": "Passkeys",
    "passkeys.heading": "Passkeys",
    "passkeys.intro": "A passkey signs you in with your fingerprint, face or device PIN "
    "instead of a code. It works only on this site, so it cannot be phished.",
    "passkeys.list": "Your passkeys",
    "passkeys.none": "You have no passkey yet.",
    "passkeys.added_on": "added {date}",
    "passkeys.remove": "Remove",
    "passkeys.add": "Add a passkey",
    "passkeys.label": "Name of the passkey",
    "passkeys.label.hint": "For example the device it lives on: “Work laptop”.",
    "passkeys.add.help": "Your browser will ask you to confirm with your fingerprint, "
    "face or device PIN.",
    "passkeys.done.added": "The passkey was added.",
    "passkeys.done.removed": "The passkey was removed; the sessions it opened have ended.",
    "passkeys.error.passkey_rejected": "The passkey could not be verified. Nothing was saved.",
    "passkeys.error.passkey_ceremony_closed": "That request has expired. Please try again.",
    "passkeys.error.device_login_required": "Log in with one of your security devices "
    "before adding a passkey.",
    "passkeys.error.passkey_not_found": "That passkey does not exist.",
    "passkeys.error.generic": "That did not work. Please try again.",
    "passkeys.error.browser": "Your browser did not create or use a passkey.",
    "verify.passkey.1": "Select the button, then confirm with your passkey (fingerprint, "
    "face or device PIN).",
}

ZH_CN: dict[str, str] = {
    "kind.passkey": "通行密钥",
    "settings.link.passkeys": "通行密钥",
    "passkeys.heading": "通行密钥",
    "passkeys.intro": "通行密钥让您用指纹、面容或设备密码代替验证码登录。"
    "它只在本网站有效，因此无法被钓鱼。",
    "passkeys.list": "您的通行密钥",
    "passkeys.none": "您还没有通行密钥。",
    "passkeys.added_on": "添加于 {date}",
    "passkeys.remove": "删除",
    "passkeys.add": "添加通行密钥",
    "passkeys.label": "通行密钥名称",
    "passkeys.label.hint": "例如它所在的设备：“工作笔记本”。",
    "passkeys.add.help": "浏览器会请您用指纹、面容或设备密码确认。",
    "passkeys.done.added": "通行密钥已添加。",
    "passkeys.done.removed": "通行密钥已删除；由它开启的会话已结束。",
    "passkeys.error.passkey_rejected": "无法验证该通行密钥。未保存任何内容。",
    "passkeys.error.passkey_ceremony_closed": "该请求已过期，请重试。",
    "passkeys.error.device_login_required": "请先使用您的安全设备登录，再添加通行密钥。",
    "passkeys.error.passkey_not_found": "该通行密钥不存在。",
    "passkeys.error.generic": "操作未成功，请重试。",
    "passkeys.error.browser": "您的浏览器未能创建或使用通行密钥。",
    "verify.passkey.1": "请点击按钮，然后用您的通行密钥（指纹、面容或设备密码）确认。",
}
