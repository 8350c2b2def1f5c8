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

from securelogin.entrypoints.web.words import (
    console,
    funds,
    lifecycle,
    mobile_key,
    passkeys,
    settings,
)

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
    "login.failed_help": "If you keep having trouble logging in, please contact Client Services.",
    "login.no_device": "You have no security device that works any more. Call Client "
    "Services for a temporary code: it logs you in, and you can then print an online "
    "security code card and activate the Mobile Key on your phone (Security settings).",
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
    "notice.login_expired": "Your login expired; please log in again",
    "notice.logged_out": "You have logged out",
    "notice.session_ended": "Your session has ended; please log in again",
    "verify.heading": "Two-Factor Authentication",
    "verify.step": "Step 2 of 2",
    "verify.device": "Security device",
    "verify.cancel": "Cancel and return to the login page",
    "verify.response_step": "Type the response shown on the device into the Response box, "
    "then click OK.",
    "verify.dsc_plus.1": "Press and hold the button on your Digital Security Card+ until "
    "PIN> appears, then enter your PIN.",
    "verify.dsc_plus.2": "At CHALLNG>, enter the challenge code shown below.",
    "verify.legacy.1": "Switch on your {device} and enter the challenge code shown below.",
    "verify.mobile_key.1": "Launch the Mobile Key app on your smartphone and select Authenticate.",
    "verify.mobile_key.2": "Enter your PIN and the challenge code shown below, then tap "
    "Generate Passcode.",
    "verify.mobile_key.3": "Enter the response string into the Response box, then click OK.",
    "verify.challenge.generic": "Enter the challenge code shown below into your security device.",
    "verify.card.intro": "Enter the codes next to {first} and {second} on your {device}",
    "verify.card.value": "Code next to {index}",
    "verify.card.hint": "Each code has 3 letters or digits; upper or lower case does not matter.",
    "verify.sms.sent": "A code was sent to {sent_to}",
    "verify.sms.enter": "Enter the 6-digit code from the text message. It is valid for 5 minutes.",
    "verify.sms.resend": "Resend code",
    "verify.sms.resent": "A new code was sent. The previous code no longer works.",
    "verify.sms.too_many": "No more codes can be sent for this login. Please log in again later.",
    "verify.code": "Code",
    "verify.code.generic": "Enter the code shown on your device",
    "verify.dsc.1": "Press the button on your Digital Security Card and enter your PIN.",
    "verify.totp_app.1": "Open your authenticator app and find the entry for this user.",
    "verify.temporary_code.1": "Enter your temporary code",
    "verify.temporary_code.label": "Temporary code",
    "verify.temporary_code.hint": "The 12 letters Client Services gave you by phone.",
    "verify.push.number": "Check that the app shows the number",
    "verify.push.check": "I have approved the notification",
    "verify.other_device": "Use another security device",
    "verify.switch": "Use this device",
    "verify.in_use": "in use",
    "kind.temporary_code": "Temporary Code",
    "kind.sms": "SMS",
    "kind.code_card": "Security Code Card",
    "kind.online_code_card": "Online Security Code Card",
    "kind.mobile_key": "Mobile Key",
    "kind.dsc": "Digital Security Card",
    "kind.dsc_plus": "Digital Security Card+",
    "kind.platinum_card": "Platinum card",
    "kind.gold_card": "Gold card",
    "kind.totp_app": "Authenticator app",
    "state.ordered": "Ordered",
    "state.shipped": "Shipped",
    "state.pending_activation": "Awaiting activation",
    "state.active": "Active",
    "state.lost": "Lost",
    "state.damaged": "Damaged",
    "state.stolen": "Stolen",
    "state.expired": "Expired",
    "state.replaced": "Replaced",
    "state.return_pending": "Return pending",
    "state.returned": "Returned",
    "state.revoked": "Revoked",
    "state.in_stock": "In stock",
    "access.full": "Full access",
    "access.card_only": "Security Code Card only",
    "access.documents_only": "Statements and tax forms only",
    "access.trading_password_only": "Trading platforms only",
    "nav.account": "Your account",
    "nav.home": "Home",
    "nav.documents": "Statements and tax forms",
    "nav.card": "Security Code Card",
    "nav.signed_in": "Logged in as {username}",
    "logout": "Log Out",
    "home.welcome": "Welcome, {username}",
    "home.intro": "You are logged in to the Client Portal with the Secure Login System.",
    "home.tier": "Security tier",
    "home.tier_value": "Tier {rank}",
    "home.logged_in_with": "Logged in with",
    "home.password_only": "Password only",
    "home.access": "Access",
    "home.full_until": "Full access until {when} UTC; then only the online security code card "
    "can be printed",
    "home.devices": "Your security devices",
    "home.devices.none": "No security device is registered for your user.",
    "home.limits": "Your withdrawal limits follow the protection of your strongest active device.",
    "device.col.kind": "Device",
    "device.col.serial": "Serial number",
    "device.col.state": "Status",
    "device.col.label": "Name",
    "card_only.heading": "Your temporary code period is over",
    "card_only.text": "The two days of full access granted with your temporary code have "
    "ended. Until your security device works again, this login can only print and activate "
    "an Online Security Code Card.",
    "card_only.valid": "An Online Security Code Card lets you use every function of the "
    "Client Portal securely for 21 days.",
    "documents.heading": "Activity statements and tax forms",
    "documents.intro": "View and print the activity statements and tax forms of your accounts.",
    "documents.closed": "Your accounts are closed. You can still view and print your "
    "activity statements and tax forms; you log in with your username and password alone.",
    "documents.statements": "Activity statements",
    "documents.tax_forms": "Tax forms",
    "documents.title.activity_statement": "Activity Statement {period}",
    "documents.title.tax_form": "Tax Form (annual cash summary) {period}",
    "documents.empty": "No documents are available yet. They will be listed here as soon as "
    "they are issued.",
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
    "login.failed_help": "如仍无法登录，请联系客户服务。",
    "login.no_device": "您已没有可用的安全设备。请致电客户服务获取临时码：用它登录后，"
    "您可打印在线安全代码卡，并在手机上激活移动验证程序（Mobile Key）（安全设置）。",
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
    "notice.login_expired": "您的登录已过期，请重新登录",
    "notice.logged_out": "您已退出登录",
    "notice.session_ended": "您的会话已结束，请重新登录",
    "verify.heading": "双因素验证",
    "verify.step": "第 2 步，共 2 步",
    "verify.device": "安全设备",
    "verify.cancel": "取消并返回登录页面",
    "verify.response_step": "在“响应字符串”框中输入设备上显示的响应字符串，然后点击确定。",
    "verify.dsc_plus.1": "按住数码安全卡+上的按钮，直至屏幕显示 PIN>，然后输入您的PIN码。",
    "verify.dsc_plus.2": "屏幕显示 CHALLNG> 时，输入下方显示的挑战码。",
    "verify.legacy.1": "打开您的{device}，输入下方显示的挑战码。",
    "verify.mobile_key.1": "在您的手机上启动移动验证程序，然后选择验证。",
    "verify.mobile_key.2": "输入您的PIN码以及下方显示的挑战码，然后点击生成通关码。",
    "verify.mobile_key.3": "在“响应字符串”框中输入响应字符串，然后点击确定。",
    "verify.challenge.generic": "在您的安全设备中输入下方显示的挑战码。",
    "verify.card.intro": "请输入您{device}上 {first} 和 {second} 旁边的代码",
    "verify.card.value": "{index} 旁边的代码",
    "verify.card.hint": "每个代码由3个字母或数字组成，不区分大小写。",
    "verify.sms.sent": "验证码已发送至 {sent_to}",
    "verify.sms.enter": "请输入短信中的6位验证码，验证码5分钟内有效。",
    "verify.sms.resend": "重新发送验证码",
    "verify.sms.resent": "新的验证码已发送，之前的验证码已失效。",
    "verify.sms.too_many": "本次登录无法再发送验证码，请稍后重新登录。",
    "verify.code": "验证码",
    "verify.code.generic": "请输入您设备上显示的代码",
    "verify.dsc.1": "按下数码安全卡上的按钮，然后输入您的PIN码。",
    "verify.totp_app.1": "打开您的身份验证器应用，找到本用户名对应的条目。",
    "verify.temporary_code.1": "请输入您的临时码",
    "verify.temporary_code.label": "临时码",
    "verify.temporary_code.hint": "即客户服务通过电话提供给您的12个字母。",
    "verify.push.number": "请确认应用中显示的数字为",
    "verify.push.check": "我已确认通知",
    "verify.other_device": "使用其他安全设备",
    "verify.switch": "使用此设备",
    "verify.in_use": "当前使用",
    "kind.temporary_code": "临时码",
    "kind.sms": "手机短信",
    "kind.code_card": "安全代码卡",
    "kind.online_code_card": "在线安全代码卡",
    "kind.mobile_key": "移动验证程序（Mobile Key）",
    "kind.dsc": "数码安全卡",
    "kind.dsc_plus": "数码安全卡+",
    "kind.platinum_card": "铂金卡",
    "kind.gold_card": "金卡",
    "kind.totp_app": "身份验证器应用",
    "state.ordered": "已订购",
    "state.shipped": "已寄出",
    "state.pending_activation": "待激活",
    "state.active": "已激活",
    "state.lost": "已遗失",
    "state.damaged": "已损坏",
    "state.stolen": "被盗",
    "state.expired": "已过期",
    "state.replaced": "已替换",
    "state.return_pending": "待归还",
    "state.returned": "已归还",
    "state.revoked": "已撤销",
    "state.in_stock": "库存中",
    "access.full": "完全访问",
    "access.card_only": "仅限安全代码卡",
    "access.documents_only": "仅限活动报表和税表",
    "access.trading_password_only": "仅限交易平台",
    "nav.account": "您的账户",
    "nav.home": "首页",
    "nav.documents": "活动报表和税表",
    "nav.card": "安全代码卡",
    "nav.signed_in": "当前用户：{username}",
    "logout": "退出",
    "home.welcome": "欢迎，{username}",
    "home.intro": "您已通过安全登录系统登录客户端。",
    "home.tier": "安全等级",
    "home.tier_value": "{rank} 级",
    "home.logged_in_with": "登录所用设备",
    "home.password_only": "仅密码",
    "home.access": "访问权限",
    "home.full_until": "完全访问至 {when}（UTC）；此后仅可打印在线安全代码卡",
    "home.devices": "您的安全设备",
    "home.devices.none": "您的用户名下没有登记安全设备。",
    "home.limits": "您的取款限额取决于您保护性能最高的已激活设备。",
    "device.col.kind": "设备",
    "device.col.serial": "序列号",
    "device.col.state": "状态",
    "device.col.label": "名称",
    "card_only.heading": "您的临时码使用期已结束",
    "card_only.text": "临时码提供的两天完全访问期已结束。在您的安全设备恢复使用之前，"
    "本次登录只能打印并激活在线安全代码卡。",
    "card_only.valid": "在线安全代码卡可供您在21天内安全地访问客户端全部功能。",
    "documents.heading": "活动报表和税表",
    "documents.intro": "查看并打印您账户的活动报表和税表。",
    "documents.closed": "您的账户已关闭。您仍可以查看并/或打印活动报表和税表，"
    "只需输入用户名和密码便能登录。",
    "documents.statements": "活动报表",
    "documents.title.activity_statement": "活动报表 {period}",
    "documents.title.tax_form": "税表（年度现金汇总）{period}",
    "documents.tax_forms": "税表",
    "documents.empty": "暂无可查看的文件。报表和税表发布后将列示于此。",
    "error.heading": "出现错误",
    "error.expired.heading": "会话已过期",
    "error.expired": "您的会话已过期，请重试。",
    "error.back": "返回登录页面",
    "footer.warning": "请勿向任何人（包括我们的员工）透露您的密码或安全码。",
    "footer.copyright": "安全登录系统。版权所有。",
}

for _part in (console, funds, lifecycle, mobile_key, passkeys, settings):
    EN.update(_part.EN)
    ZH_CN.update(_part.ZH_CN)

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
