"""Words of withdrawals and limits (issue 5), in English and Simplified Chinese (same keys
in both).

The wording follows the original article on withdrawal limits
(reference/seed-articles.txt: "单日最高取款限额", "5个工作日内最高取款限额").
"""

from __future__ import annotations

EN: dict[str, str] = {
    "nav.withdraw": "Withdraw funds",
    "withdraw.heading": "Withdraw funds",
    "withdraw.intro": "Clients who take part in the Secure Login System withdraw more "
    "freely. The amount you may withdraw or transfer in one day and in five business days "
    "depends on the protection of the security device that confirms the withdrawal.",
    "withdraw.device": "Security device",
    "withdraw.no_device": "None",
    "withdraw.daily_limit": "Maximum daily withdrawal",
    "withdraw.window_limit": "Maximum withdrawal in 5 business days",
    "withdraw.unlimited": "Unlimited",
    "withdraw.accounts": "Your accounts",
    "withdraw.account": "Account",
    "withdraw.available": "Available funds",
    "withdraw.left_today": "Still available today",
    "withdraw.left_window": "Still available in the 5-business-day window",
    "withdraw.business_days": "Business days are NYSE trading days in New York time; a "
    "withdrawal requested on a weekend or an exchange holiday counts on the next business "
    "day.",
    "withdraw.no_accounts": "Your user may not withdraw from any open account.",
    "withdraw.request": "Request a withdrawal",
    "withdraw.amount": "Amount (USD)",
    "withdraw.amount_hint": "For example 2500.00: at most two decimals.",
    "withdraw.destination": "Destination (your bank instruction)",
    "withdraw.submit": "Continue",
    "withdraw.confirm_heading": "Confirm the withdrawal",
    "withdraw.bound": "Check the amount and the destination: your confirmation is valid "
    "for this withdrawal only.",
    "withdraw.confirm": "Confirm withdrawal",
    "withdraw.next_code": "Each code works once. If you just logged in with the code your "
    "{device} shows now, wait for the next one (a new code every 30 seconds).",
    "withdraw.confirm_failed": "Confirmation failed. Please check the code and try again.",
    "withdraw.accepted": "The withdrawal was accepted. It counts on business day {business_day}.",
    "withdraw.again": "Back to withdrawals",
    "withdraw.status.accepted": "Withdrawal accepted",
    "withdraw.status.refused": "Withdrawal refused",
    "withdraw.status.expired": "Withdrawal expired",
    "withdraw.status.confirmation_required": "Confirm the withdrawal",
    "withdraw.refused.insufficient_funds": "Refused: the amount exceeds your available "
    "funds (balance minus holds).",
    "withdraw.refused.daily_limit_exceeded": "Refused: the amount exceeds the daily "
    "withdrawal limit of your security device.",
    "withdraw.refused.five_day_limit_exceeded": "Refused: the amount exceeds the "
    "5-business-day withdrawal limit of your security device.",
    "withdraw.refused.confirmation_failed": "Refused: the confirmation failed too often.",
    "withdraw.refused.account_closed": "Refused: the account is closed.",
    "withdraw.error.amount": "Enter an amount greater than zero with at most two decimals.",
    "withdraw.error.destination": "Enter a destination of 1 to 64 printable characters.",
    "withdraw.error.account_not_found": "No such account among yours.",
    "withdraw.error.no_withdraw_right": "Your user does not have the right to withdraw "
    "from this account.",
    "withdraw.error.account_closed": "This account is closed.",
    "withdraw.error.device_required": "A withdrawal must be confirmed with an active "
    "security device.",
    "withdraw.error.idempotency_key_reused": "This form was already sent with other "
    "values. Please start again.",
    "withdraw.error.access_denied": "This session may not withdraw funds.",
    "withdraw.error.generic": "The withdrawal could not be requested.",
    "kind.password": "Your password",
    "withdraw.password_failed": "Confirmation failed. Please check the password and try again.",
    "withdraw.password.lead": "You hold no security device: confirm this withdrawal by "
    "entering your password again.",
    "withdraw.password.label": "Password",
    "withdraw.password.hint": "The password you log in with. Wrong passwords count toward "
    "the lock-out, as wrong codes do.",
    "withdraw.password_note": "Without a security device you confirm each withdrawal with "
    "your password, within the limits above. A security device raises them.",
}

ZH_CN: dict[str, str] = {
    "nav.withdraw": "取款",
    "withdraw.heading": "取款",
    "withdraw.intro": "参与安全登录系统的客户取款更为自由。单日和五日可取款或转账的金额随确认"
    "取款的安全设备的保护性能变化。",
    "withdraw.device": "安全设备",
    "withdraw.no_device": "无",
    "withdraw.daily_limit": "单日最高取款限额",
    "withdraw.window_limit": "5个工作日内最高取款限额",
    "withdraw.unlimited": "无限制",
    "withdraw.accounts": "您的账户",
    "withdraw.account": "账户",
    "withdraw.available": "可用资金",
    "withdraw.left_today": "今日剩余可取金额",
    "withdraw.left_window": "5个工作日内剩余可取金额",
    "withdraw.business_days": "工作日为纽约时间的纽约证券交易所交易日；在周末或交易所假日提交的"
    "取款计入下一个工作日。",
    "withdraw.no_accounts": "您的用户无法从任何开立中的账户取款。",
    "withdraw.request": "申请取款",
    "withdraw.amount": "金额（美元）",
    "withdraw.amount_hint": "例如 2500.00：最多两位小数。",
    "withdraw.destination": "收款方（您的银行指令）",
    "withdraw.submit": "继续",
    "withdraw.confirm_heading": "确认取款",
    "withdraw.bound": "请核对金额和收款方：您的确认仅对本笔取款有效。",
    "withdraw.confirm": "确认取款",
    "withdraw.next_code": "每个代码只能使用一次。如果您刚用{device}当前显示的代码登录，"
    "请等待下一个代码（每30秒更新一次）。",
    "withdraw.confirm_failed": "确认失败。请检查代码后重试。",
    "withdraw.accepted": "取款已受理，计入工作日 {business_day}。",
    "withdraw.again": "返回取款",
    "withdraw.status.accepted": "取款已受理",
    "withdraw.status.refused": "取款被拒绝",
    "withdraw.status.expired": "取款已过期",
    "withdraw.status.confirmation_required": "确认取款",
    "withdraw.refused.insufficient_funds": "已拒绝：金额超过您的可用资金（余额减去冻结金额）。",
    "withdraw.refused.daily_limit_exceeded": "已拒绝：金额超过您安全设备的单日取款限额。",
    "withdraw.refused.five_day_limit_exceeded": "已拒绝：金额超过您安全设备的5个工作日取款限额。",
    "withdraw.refused.confirmation_failed": "已拒绝：确认失败次数过多。",
    "withdraw.refused.account_closed": "已拒绝：该账户已关闭。",
    "withdraw.error.amount": "请输入大于零且最多两位小数的金额。",
    "withdraw.error.destination": "请输入1至64个可打印字符的收款方。",
    "withdraw.error.account_not_found": "您的账户中没有该账户。",
    "withdraw.error.no_withdraw_right": "您的用户无权从该账户取款。",
    "withdraw.error.account_closed": "该账户已关闭。",
    "withdraw.error.device_required": "取款必须使用有效的安全设备确认。",
    "withdraw.error.idempotency_key_reused": "此表单已以其他内容提交。请重新开始。",
    "withdraw.error.access_denied": "此会话无权取款。",
    "withdraw.error.generic": "无法提交取款申请。",
    "kind.password": "您的密码",
    "withdraw.password_failed": "确认失败。请检查密码后重试。",
    "withdraw.password.lead": "您没有安全设备：请再次输入密码以确认本笔取款。",
    "withdraw.password.label": "密码",
    "withdraw.password.hint": "即您登录时使用的密码。与错误的验证码一样，"
    "错误的密码会计入锁定次数。",
    "withdraw.password_note": "没有安全设备时，您需输入密码确认每笔取款，取款金额以上述限额为准。"
    "使用安全设备可提高限额。",
}
