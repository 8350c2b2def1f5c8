// English and Simplified Chinese; the phone's language unless the user switched.

const WORDS = {
  en: {
    "app.title": "Mobile Key",
    "lang.switch": "中文",
    "welcome.heading": "Your Mobile Key",
    "welcome.text": "Approve logins and withdrawals on this phone. Activate it with your username, password and a code sent to you by SMS.",
    "welcome.start": "Activate",
    "activate.heading": "Activate the Mobile Key",
    "field.username": "Username",
    "field.password": "Password",
    "activate.continue": "Continue",
    "phone.heading": "Where should we send the activation code?",
    "phone.send": "Send the code",
    "finish.heading": "Finish the activation",
    "finish.sent": "Activation code sent to {to}",
    "field.code": "SMS activation code",
    "field.app_pin": "App PIN (4–6 digits)",
    "field.app_pin_again": "App PIN again",
    "field.recovery_pin": "Recovery PIN (4–6 characters)",
    "recovery.hint": "You need the recovery PIN to move your Mobile Key to a new phone. It must not be your birth date, phone number or ID number.",
    "finish.activate": "Activate",
    "unlock.heading": "Unlock",
    "field.pin": "App PIN",
    "unlock.submit": "Unlock",
    "home.heading": "Mobile Key",
    "home.users": "Usernames on this phone",
    "home.waiting": "Waiting for login requests…",
    "home.offline": "Offline: use Challenge to answer a login.",
    "home.challenge": "Challenge",
    "home.add_user": "Add a username",
    "home.lock": "Lock",
    "add.heading": "Add a username",
    "add.hint": "Its password and this app's recovery PIN.",
    "add.submit": "Add",
    "challenge.heading": "Challenge",
    "challenge.hint": "Type the 6-digit challenge shown on the login screen.",
    "field.challenge": "Challenge",
    "field.user": "Username",
    "challenge.submit": "Show the response",
    "challenge.response": "Response",
    "back": "Back",
    "request.login": "Login by {who}",
    "request.withdrawal": "Withdrawal of USD {amount} to {destination} by {who}",
    "request.where": "From {ip} ({platform}) at {time}",
    "request.pick": "Tap the number shown on the login screen",
    "request.deny": "Deny",
    "request.not_me": "This wasn't me",
    "outcome.approved": "Approved: {what}",
    "outcome.denied": "Denied: {what}",
    "outcome.not_me": "Denied and reported. Requests to you are paused for 20 minutes.",
    "outcome.mismatch": "That was not the number on the login screen: the request was denied.",
    "error.pin_format": "The app PIN is 4 to 6 digits.",
    "error.pin_again": "The two app PINs differ.",
    "error.recovery_format": "The recovery PIN is 4 to 6 characters.",
    "error.wrong_pin": "Wrong app PIN.",
    "error.challenge_format": "The challenge is the 6 digits shown on the login screen.",
    "error.no_phone": "There is no phone number on record; ask customer service.",
    "error.invalid_credentials": "Invalid username or password.",
    "error.locked": "This username is locked. Try again later or call customer service.",
    "error.activation_failed": "Wrong activation code.",
    "error.activation_not_found": "The activation has ended. Start again.",
    "error.recovery_pin_rejected": "Choose another recovery PIN: it must not be your birth date, phone or ID number.",
    "error.push_closed": "This request was already answered or has expired.",
    "error.key_signature_invalid": "The server no longer accepts this app (the username moved to another phone?).",
    "error.too_many_codes": "Too many codes were sent. Start again later.",
    "error.unreachable": "The server cannot be reached.",
    "error.other": "Something went wrong ({code}).",
  },
  "zh-CN": {
    "app.title": "移动密钥",
    "lang.switch": "English",
    "welcome.heading": "您的移动密钥",
    "welcome.text": "在此手机上批准登录和取款。请使用您的用户名、密码和短信验证码激活。",
    "welcome.start": "激活",
    "activate.heading": "激活移动密钥",
    "field.username": "用户名",
    "field.password": "密码",
    "activate.continue": "继续",
    "phone.heading": "激活码发送到哪个号码？",
    "phone.send": "发送激活码",
    "finish.heading": "完成激活",
    "finish.sent": "激活码已发送至 {to}",
    "field.code": "短信激活码",
    "field.app_pin": "应用 PIN（4–6 位数字）",
    "field.app_pin_again": "再次输入应用 PIN",
    "field.recovery_pin": "恢复 PIN（4–6 个字符）",
    "recovery.hint": "将移动密钥转移到新手机时需要恢复 PIN。不得使用您的出生日期、电话号码或证件号码。",
    "finish.activate": "激活",
    "unlock.heading": "解锁",
    "field.pin": "应用 PIN",
    "unlock.submit": "解锁",
    "home.heading": "移动密钥",
    "home.users": "此手机上的用户名",
    "home.waiting": "正在等待登录请求…",
    "home.offline": "离线：请使用“挑战码”完成登录。",
    "home.challenge": "挑战码",
    "home.add_user": "添加用户名",
    "home.lock": "锁定",
    "add.heading": "添加用户名",
    "add.hint": "输入该用户名的密码和本应用的恢复 PIN。",
    "add.submit": "添加",
    "challenge.heading": "挑战码",
    "challenge.hint": "输入登录页面上显示的 6 位挑战码。",
    "field.challenge": "挑战码",
    "field.user": "用户名",
    "challenge.submit": "显示应答码",
    "challenge.response": "应答码",
    "back": "返回",
    "request.login": "{who} 正在登录",
    "request.withdrawal": "{who} 申请取款 USD {amount} 至 {destination}",
    "request.where": "来自 {ip}（{platform}），时间 {time}",
    "request.pick": "请点击登录页面上显示的数字",
    "request.deny": "拒绝",
    "request.not_me": "不是我本人",
    "outcome.approved": "已批准：{what}",
    "outcome.denied": "已拒绝：{what}",
    "outcome.not_me": "已拒绝并报告。20 分钟内将暂停向您发送请求。",
    "outcome.mismatch": "该数字与登录页面上的不符：请求已被拒绝。",
    "error.pin_format": "应用 PIN 为 4 至 6 位数字。",
    "error.pin_again": "两次输入的应用 PIN 不一致。",
    "error.recovery_format": "恢复 PIN 为 4 至 6 个字符。",
    "error.wrong_pin": "应用 PIN 错误。",
    "error.challenge_format": "挑战码是登录页面上显示的 6 位数字。",
    "error.no_phone": "没有登记的电话号码，请联系客服。",
    "error.invalid_credentials": "用户名或密码无效。",
    "error.locked": "该用户名已被锁定。请稍后再试或联系客服。",
    "error.activation_failed": "激活码错误。",
    "error.activation_not_found": "激活已结束，请重新开始。",
    "error.recovery_pin_rejected": "请换一个恢复 PIN：不得使用您的出生日期、电话号码或证件号码。",
    "error.push_closed": "此请求已被处理或已过期。",
    "error.key_signature_invalid": "服务器不再接受此应用（用户名是否已转移到其他手机？）。",
    "error.too_many_codes": "发送的验证码过多，请稍后重试。",
    "error.unreachable": "无法连接服务器。",
    "error.other": "出现问题（{code}）。",
  },
};

export const LANGUAGES = Object.keys(WORDS);
let current = "en";

export function detect(stored, preferred) {
  if (stored && WORDS[stored]) return stored;
  for (const tag of preferred || []) {
    const lower = String(tag).toLowerCase();
    if (lower.startsWith("zh")) return "zh-CN";
    if (lower.startsWith("en")) return "en";
  }
  return "en";
}

export function setLanguage(language) {
  current = WORDS[language] ? language : "en";
  document.documentElement.lang = current;
  for (const element of document.querySelectorAll("[data-i18n]")) {
    element.textContent = t(element.dataset.i18n);
  }
  document.title = t("app.title");
}

export const language = () => current;

export function t(key, params = {}) {
  const text = WORDS[current][key] ?? WORDS.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(params[name] ?? ""));
}
