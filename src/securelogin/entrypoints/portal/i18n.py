"""The Client Portal's words in English and Simplified Chinese (SPEC §8).

The wording follows the original Secure Login System articles
(shared/reference/seed-articles.txt): "Secure Login System" is 安全登录系统, the Client
Portal is 客户端, the Security Code Card is 安全代码卡, and our IB Key is the Mobile Key
(移动验证程序). Both catalogues carry exactly the same keys (a test checks it), so a
lookup never falls back to another language.

Failed logins never say which factor was wrong (R-LOGIN-10): the only two answers are
``login.invalid_credentials`` and ``login.failed``.
"""

from __future__ import annotations

DEFAULT_LANGUAGE = "en"

#: Supported languages, in the order the language switch shows them, with their own names.
LANGUAGE_NAMES: dict[str, str] = {"en": "English", "zh-CN": "简体中文"}

EN: dict[str, str] = {
    "app.title": "Client Portal",
    "app.product": "Secure Login System",
    "nav.language": "Language",
    "skip": "Skip to main content",
    "login.heading": "Log in to Client Portal",
    "login.intro": "Enter your username and password. You will then be asked to confirm "
    "the login with your security device.",
    "login.username": "Username",
    "login.password": "Password",
    "login.submit": "Log In",
    "login.messages": "Messages",
    "login.invalid_credentials": "Invalid username or password",
    "login.failed": "Login failed",
    "login.unavailable": "Login is not yet available on this server. Please try again later.",
    "login.push_wait": "A notification has been sent to your phone. Open it with the Mobile "
    "Key to continue.",
    "login.push_fallback": "Click here if you do not receive the notification",
    "login.challenge": "Challenge code",
    "login.response": "Response",
    "login.ok": "OK",
    "login.help": "Lost your security device or locked out? Contact Client Services by "
    "phone. For your protection this service requires verification of the account "
    "holder's identity.",
    "about.heading": "About the Secure Login System",
    "about.intro": "We take the security of your assets and personal information very "
    "seriously, and protect your account from the day it is opened.",
    "about.how": "The Secure Login System adds a second factor to your password: after "
    "you enter your username and password, you confirm the login with your security "
    "device.",
    "about.devices": "Security devices",
    "device.mobile_key": "Mobile Key",
    "device.mobile_key.text": "Approve a notification on your smartphone, or answer a "
    "challenge code.",
    "device.security_code_card": "Security Code Card",
    "device.security_code_card.text": "Enter the two values the login screen asks for.",
    "device.dsc_plus": "Digital Security Card+",
    "device.dsc_plus.text": "Our highest level of protection, with a PIN-protected card.",
    "about.limits": "Clients who participate in the Secure Login System enjoy higher "
    "withdrawal limits, and the limits rise with the protection of their device.",
    "error.heading": "Something went wrong",
    "error.expired.heading": "Session expired",
    "error.expired": "Your session expired; please try again.",
    "error.back": "Return to the login page",
    "footer.warning": "Never share your password or security codes with anyone, including "
    "our staff.",
    "footer.copyright": "Secure Login System. All rights reserved.",
}

ZH_CN: dict[str, str] = {
    "app.title": "客户端",
    "app.product": "安全登录系统",
    "nav.language": "语言",
    "skip": "跳至主要内容",
    "login.heading": "登录客户端",
    "login.intro": "请输入您的用户名和密码，然后使用您的安全设备确认登录。",
    "login.username": "用户名",
    "login.password": "密码",
    "login.submit": "登录",
    "login.messages": "消息",
    "login.invalid_credentials": "用户名或密码无效",
    "login.failed": "登录失败",
    "login.unavailable": "本服务器暂不支持登录，请稍后再试。",
    "login.push_wait": "系统已向您的手机发送一条通知，"
    "请用移动验证程序（Mobile Key）打开该通知以继续。",
    "login.push_fallback": "如未收到通知，请点击此处",
    "login.challenge": "挑战码",
    "login.response": "响应字符串",
    "login.ok": "确定",
    "login.help": "安全设备遗失或账户被锁定？请致电客户服务。"
    "为保护您的利益，此服务需要核实账户持有人的身份。",
    "about.heading": "关于安全登录系统",
    "about.intro": "我们高度重视您的资产与个人信息安全，"
    "并致力于采取必要措施确保您的账户自开立起便受到保护。",
    "about.how": "安全登录系统为您的密码增加了第二重验证："
    "输入用户名和密码后，您需使用安全设备确认登录。",
    "about.devices": "安全设备",
    "device.mobile_key": "移动验证程序（Mobile Key）",
    "device.mobile_key.text": "在智能手机上确认通知，或输入挑战码获取响应字符串。",
    "device.security_code_card": "安全代码卡",
    "device.security_code_card.text": "输入登录界面要求的两个数值。",
    "device.dsc_plus": "数码安全卡+",
    "device.dsc_plus.text": "我们最高级别的保护，卡片受PIN码保护。",
    "about.limits": "参与安全登录系统的客户取款更为自由，"
    "单日和五日可取款金额随设备的保护性能提高。",
    "error.heading": "出现错误",
    "error.expired.heading": "会话已过期",
    "error.expired": "您的会话已过期，请重试。",
    "error.back": "返回登录页面",
    "footer.warning": "请勿向任何人（包括我们的员工）透露您的密码或安全码。",
    "footer.copyright": "安全登录系统。版权所有。",
}

CATALOGUES: dict[str, dict[str, str]] = {"en": EN, "zh-CN": ZH_CN}


def translate(lang: str, key: str, **kw: object) -> str:
    """The message ``key`` in ``lang`` (English for an unknown language).

    An unknown key raises ``KeyError``: a missing word is a bug, not something to hide.
    Placeholders use ``str.format`` syntax and are filled only when ``kw`` is given.
    """
    text = CATALOGUES.get(lang, EN)[key]
    return text.format(**kw) if kw else text


def supported(code: str | None) -> str | None:
    """The supported language a code names (``zh``, ``zh-Hans``, ``zh-cn`` → ``zh-CN``)."""
    if not code:
        return None
    tag = code.strip().lower()
    if tag == "zh" or tag.startswith("zh-"):
        return "zh-CN"
    if tag == "en" or tag.startswith("en-"):
        return "en"
    return None


def _accepted(accept_language: str) -> str | None:
    """The supported language the ``Accept-Language`` header likes best (RFC 9110 §12.5.4)."""
    best: tuple[float, int, str] | None = None
    for position, item in enumerate(accept_language.split(",")[:32]):
        tag, _, params = item.partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        tag = tag.strip()
        lang = DEFAULT_LANGUAGE if tag == "*" else supported(tag)
        if lang is None or not 0 < quality <= 1:
            continue
        # Highest quality wins; among equals, the first one listed.
        if best is None or (quality, -position) > (best[0], best[1]):
            best = (quality, -position, lang)
    return best[2] if best else None


def negotiate(cookie: str | None, query: str | None, accept_language: str | None) -> str:
    """The page language: the ``lang`` cookie, else ``?lang=``, else the browser's
    ``Accept-Language``, else English. Values naming no supported language are skipped."""
    return (
        supported(cookie)
        or supported(query)
        or (_accepted(accept_language) if accept_language else None)
        or DEFAULT_LANGUAGE
    )
