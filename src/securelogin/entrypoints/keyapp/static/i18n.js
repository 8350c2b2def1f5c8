// English and Simplified Chinese; the phone's language unless the user switched.

const WORDS = {
  en: {
    "app.title": "Mobile Key",
    "lang.switch": "中文",
    "welcome.heading": "Your Mobile Key",
    "welcome.text": "Approve logins and withdrawals on this phone. Activate it with your username, password and a code sent to you by SMS.",
    "welcome.start": "Activate",
    "welcome.link": "I have an activation code from the portal",
    "welcome.scan": "Scan the portal's QR code",
    "scan.heading": "Scan the QR code",
    "scan.hint": "In the portal, open Security settings → Mobile Key → Activate by QR code, and point this phone's camera at the QR code.",
    "scan.type": "Type the code instead",
    "scan.cancel": "Cancel",
    "link.scan": "Scan the QR code instead",
    "error.camera_denied": "The camera is not allowed for this app. Type the code shown under the QR code, or allow the camera in the browser's settings.",
    "error.camera_absent": "No camera can be used. Type the code shown under the QR code.",
    "link.heading": "Activate with the portal's code",
    "link.hint": "In the portal, open Security settings → Mobile Key → Activate by QR code, then type or paste the code shown under the QR code.",
    "field.link": "Activation link or code",
    "error.link_format": "That is not an activation code of the portal.",
    "error.link_server": "This code is for another server: open the app from that server.",
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
    "consent.heading": "Notifications",
    "consent.text": "Let this app tell you when someone logs in or asks for a withdrawal with your username, even while it is closed.",
    "consent.hint": "A notification only says that a request is waiting; who, where and what you see in the app. Without notifications, requests arrive while the app is open.",
    "consent.allow": "Allow notifications",
    "consent.skip": "Not now",
    "note.push_off": "Notifications are off: login requests arrive while the app is open.",
    "unlock.heading": "Unlock",
    "field.pin": "App PIN",
    "unlock.submit": "Unlock",
    "unlock.bio": "Unlock with biometrics",
    "home.enable_bio": "Turn on biometric unlock",
    "home.bio_on": "Biometric unlock is on.",
    "error.bio_failed": "The biometric check failed. Use the app PIN.",
    "home.enable_push": "Turn on notifications",
    "home.disable_push": "Turn off notifications",
    "note.push_on": "Notifications are on.",
    "error.push_denied": "Notifications are not allowed for this app. Allow them in the browser's settings, then try again.",
    "error.push_failed": "This browser could not subscribe to notifications. Requests arrive while the app is open.",
    "error.push_subscription_rejected": "The server did not accept this browser's notification subscription.",
    "home.bio_offline": "Offline, biometrics also answer challenges.",
    "home.bio_pin_offline": "This phone's authenticator cannot open the app offline: offline, type the app PIN.",
    "error.bio_offline_pin": "Offline, biometrics cannot open the app on this phone. Type the app PIN.",
    "home.heading": "Mobile Key",
    "home.users": "Usernames on this phone",
    "home.waiting": "Waiting for login requests…",
    "home.offline": "Offline: use Challenge to answer a login.",
    "home.challenge": "Challenge",
    "home.add_user": "Add a username",
    "home.lock": "Lock",
    "user.moved": "{username}: moved to another phone",
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
    "request.share": "Sharing {who}'s security device with another username",
    "request.settings": "Change of security settings by {who}",
    "request.other": "A request by {who}",
    "request.pick": "Tap the number shown on the login screen",
    "request.pick_withdrawal": "Tap the number shown on the withdrawal screen",
    "request.pick_other": "Tap the number shown on the screen that asked for this",
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
    "error.app_pin_locked": "Too many wrong app PINs. Activate the app again with your recovery PIN.",
    "error.challenge_format": "The challenge is the 6 digits shown on the login screen.",
    "error.no_user": "No username on this phone can answer: activate one.",
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
    "app.title": "移动验证程序",
    "lang.switch": "English",
    "welcome.heading": "您的移动验证程序",
    "welcome.text": "在此手机上批准登录和取款。请使用您的用户名、密码和短信验证码激活。",
    "welcome.start": "激活",
    "welcome.link": "我有门户网站提供的激活码",
    "welcome.scan": "扫描门户网站的二维码",
    "scan.heading": "扫描二维码",
    "scan.hint": "在门户网站中打开“安全设置 → 移动验证程序 → 通过二维码激活”，然后用本手机的摄像头对准二维码。",
    "scan.type": "改为输入代码",
    "scan.cancel": "取消",
    "link.scan": "改为扫描二维码",
    "error.camera_denied": "本应用未获准使用摄像头。请输入二维码下方显示的代码，或在浏览器设置中允许使用摄像头。",
    "error.camera_absent": "没有可用的摄像头。请输入二维码下方显示的代码。",
    "link.heading": "使用门户网站的激活码激活",
    "link.hint": "在门户网站中打开“安全设置 → 移动验证程序 → 通过二维码激活”，然后输入或粘贴二维码下方显示的代码。",
    "field.link": "激活链接或代码",
    "error.link_format": "这不是门户网站的激活码。",
    "error.link_server": "此代码属于其他服务器：请从该服务器打开本应用。",
    "activate.heading": "激活移动验证程序",
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
    "recovery.hint": "将移动验证程序转移到新手机时需要恢复 PIN。不得使用您的出生日期、电话号码或证件号码。",
    "finish.activate": "激活",
    "consent.heading": "通知",
    "consent.text": "当有人使用您的用户名登录或申请取款时，即使本应用已关闭，也会通知您。",
    "consent.hint": "通知仅提示有请求待处理；请求人、地点和内容请在应用中查看。不开启通知时，请求会在应用打开时显示。",
    "consent.allow": "允许通知",
    "consent.skip": "暂不",
    "note.push_off": "通知未开启：登录请求将在应用打开时显示。",
    "unlock.heading": "解锁",
    "field.pin": "应用 PIN",
    "unlock.submit": "解锁",
    "unlock.bio": "使用生物识别解锁",
    "home.enable_bio": "开启生物识别解锁",
    "home.bio_on": "已开启生物识别解锁。",
    "error.bio_failed": "生物识别验证失败，请使用应用 PIN。",
    "home.enable_push": "开启通知",
    "home.disable_push": "关闭通知",
    "note.push_on": "通知已开启。",
    "error.push_denied": "本应用未获准发送通知。请在浏览器设置中允许通知，然后重试。",
    "error.push_failed": "此浏览器无法订阅通知。请求将在应用打开时显示。",
    "error.push_subscription_rejected": "服务器未接受此浏览器的通知订阅。",
    "home.bio_offline": "离线时也可使用生物识别回答挑战码。",
    "home.bio_pin_offline": "此手机的验证器无法在离线时打开应用：离线时请输入应用 PIN。",
    "error.bio_offline_pin": "离线时，此手机无法使用生物识别打开应用。请输入应用 PIN。",
    "home.heading": "移动验证程序",
    "home.users": "此手机上的用户名",
    "home.waiting": "正在等待登录请求…",
    "home.offline": "离线：请使用“挑战码”完成登录。",
    "home.challenge": "挑战码",
    "home.add_user": "添加用户名",
    "home.lock": "锁定",
    "user.moved": "{username}：已转移到其他手机",
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
    "request.share": "与另一用户名共享 {who} 的安全设备",
    "request.settings": "{who} 更改安全设置",
    "request.other": "{who} 的请求",
    "request.pick": "请点击登录页面上显示的数字",
    "request.pick_withdrawal": "请点击取款页面上显示的数字",
    "request.pick_other": "请点击发起此请求的页面上显示的数字",
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
    "error.app_pin_locked": "应用 PIN 错误次数过多。请使用恢复 PIN 重新激活本应用。",
    "error.challenge_format": "挑战码是登录页面上显示的 6 位数字。",
    "error.no_user": "此手机上没有可用的用户名：请先激活。",
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

/** What a push asks the person to approve (R-KEY-4), in the current language: each
 * purpose names itself, and one this app does not know is never shown as a login. */
export function describePush(push) {
  const who = push.who || push.username;
  switch (push.purpose) {
    case "login":
      return t("request.login", { who });
    case "withdrawal":
      return t("request.withdrawal", { who, amount: push.amount, destination: push.destination });
    case "share":
      return t("request.share", { who });
    case "settings":
      return t("request.settings", { who });
    default:
      return t("request.other", { who });
  }
}

/** Where the number to tap is shown, for the push's purpose. */
export function pickHint(push) {
  if (push.purpose === "login") return t("request.pick");
  if (push.purpose === "withdrawal") return t("request.pick_withdrawal");
  return t("request.pick_other");
}
