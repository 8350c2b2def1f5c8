"""Words of security settings: opt-out, opting back in, sharing (issue 6), in English and
Simplified Chinese (same keys in both).

The wording follows the original articles (reference/seed-articles.txt): the notice that
points to "the user which has such rights", the three ways to opt back in, and the
"Less secure device" message of device sharing.  The ``console.compliance.*`` keys are
the compliance page of the operator console.
"""

from __future__ import annotations

EN: dict[str, str] = {
    "nav.settings": "Security settings",
    "settings.heading": "Security settings",
    "settings.intro": "Manage how the Secure Login System protects your user: your "
    "security devices, device sharing, and participation in the Secure Login System.",
    "settings.status": "Secure Login System",
    "settings.status.in": "You take part in the Secure Login System.",
    "settings.status.out": "You opted out of the Secure Login System on {date}.",
    "settings.status.out_risk": "Clients who have performed an opt-out from the Secure "
    "Login System expose themselves to certain risks and are therefore subject to certain "
    "restrictions (e.g. no trading of Pink Sheet and OTCBB stocks, lower withdrawal "
    "limits). Considering this, along with the protection benefits afforded through a "
    "complete protection, you may decide to opt back into the Secure Login System.",
    "settings.not_primary": "Your user is not allowed to change the security settings. "
    "Please ask the user who has such rights:",
    "settings.not_primary.account": "Account {account}: {users}",
    "settings.not_primary.none": "Your user has no account whose security settings it may change.",
    "settings.links": "Devices and requests",
    "settings.link.mobile_key": "Activate the Mobile Key",
    "settings.link.share": "Share a security device held under another username",
    "settings.link.online_card": "Online Security Code Card",
    "settings.link.replacement": "Request a replacement physical device",
    "settings.link.returns": "Return a security device",
    "settings.opt_out": "Opt out of the Secure Login System",
    "settings.opt_out.text": "Trading platforms will then accept your username and "
    "password alone. Read the agreement before you decide.",
    "settings.opt_out.disabled": "Opting out of the Secure Login System is not offered.",
    "settings.opt_in": "Opt back into the Secure Login System",
    "settings.opt_in.text": "Choose how you want to protect your login:",
    "settings.opt_in.mobile_key": "Install and activate the Mobile Key on your phone",
    "settings.opt_in.online_card": "Enroll without the Mobile Key: use an Online Security "
    "Code Card until a physical device arrives",
    "settings.opt_in.share": "I already have access to a Secure Login Device under a "
    "different username",
    "settings.opt_in.submit": "Continue",
    "settings.done.opted_out": "You opted out of the Secure Login System. Your signed "
    "agreement has been stored.",
    "settings.done.opted_in": "You take part in the Secure Login System again.",
    "settings.done.share_approved": "Your sharing request was approved. The shared device "
    "now protects your user; log in with it next time.",
    "settings.done.share_failed": "Your sharing request failed: the owner's device did not "
    "confirm it.",
    "settings.done.share_pending": "Your sharing request needs the approval of our "
    "Compliance department and stays pending until then.",
    "settings.requests": "Your sharing requests",
    "settings.requests.none": "You have made no sharing request.",
    "settings.col.owner": "Device owner",
    "settings.col.device": "Device",
    "settings.col.status": "Status",
    "settings.col.date": "Date",
    "share.status.challenge": "Waiting for the device's response",
    "share.status.failed": "Failed",
    "share.status.pending_compliance": "Pending (Compliance)",
    "share.status.approved": "Approved",
    "share.status.rejected": "Rejected",
    "optout.heading": "Opt out of the Secure Login System",
    "optout.read": "Please read the agreement carefully.",
    "optout.version": "Version {version}",
    "optout.accept": "I have read the agreement above and accept its terms and the risks.",
    "optout.submit": "Sign and opt out",
    "optout.confirm.heading": "Confirm the opt-out",
    "optout.confirm.intro": "Operate your device and enter its response to confirm.",
    "optout.confirm.password": "Enter your password again to sign the agreement.",
    "optout.confirm.push": "A notification was sent to your Mobile Key. Check that it "
    "shows this number, then approve it.",
    "optout.answer": "Response",
    "optout.cancel": "Cancel",
    "optin.card.heading": "Your Online Security Code Card",
    "optin.card.intro": "Print or write down these values now: they are shown only once. "
    "Then activate the card by answering two of its positions.",
    "optin.card.position": "Position",
    "optin.card.value": "Value",
    "optin.card.next": "When the card is active, come back to the security settings and "
    "opt back in.",
    "share.heading": "Share a security device",
    "share.intro": "Among the possible candidates, identify the device offering the "
    "highest level of protection and the user that device belongs to (the device owner). "
    "Log in with the requesting user (not the device owner), then enter the device "
    "owner's username and password.",
    "share.rules": "Sharing is possible only if the users belong to the same person "
    "(same entity, or the same identification data), neither user holds a temporary "
    "device (Temporary Code, Online Security Code Card), and the shared device is the "
    "most secure one. Your own devices are retired once the request is approved.",
    "share.owner": "Device owner's username",
    "share.owner_password": "Device owner's password",
    "share.device": "Device ID (optional; the owner's most secure device by default)",
    "share.submit": "Continue",
    "share.challenge.heading": "Confirm with the owner's device",
    "share.challenge.intro": "Operate the device of {owner} and enter its response.",
    "share.challenge.push": "A notification was sent to the Mobile Key of {owner}. Check "
    "that it shows this number and approve it; this page moves on by itself.",
    "share.answer": "Response",
    "share.submit_answer": "OK",
    "share.error.less_secure_device": "Less secure device: you chose a less secure device "
    "to share. Identify the most secure device and share that one.",
    "share.error.identity_mismatch": "The two users do not belong to the same person: "
    "their identification data differ.",
    "share.error.temporary_device_assigned": "One of the users holds a temporary device "
    "(Temporary Code or Online Security Code Card). Share once the permanent device is "
    "active.",
    "share.error.requester_is_owner": "Log in with the requesting user, not with the "
    "device owner, and enter the device owner's username.",
    "share.error.device_not_shareable": "This kind of device cannot be shared. Share a "
    "physical device or the Mobile Key.",
    "share.error.device_not_active": "The device to share is not active.",
    "share.error.already_shared": "This device already protects your user, or a request "
    "to share it is pending.",
    "share.error.owner_authentication_failed": "The device owner's username, password or "
    "the device's response was not correct.",
    "settings.error.not_primary_user": "Your user is not allowed to change the security settings.",
    "settings.error.opt_out_disabled": "Opting out of the Secure Login System is not offered.",
    "settings.error.already_opted_out": "You have already opted out.",
    "settings.error.not_opted_out": "You already take part in the Secure Login System.",
    "settings.error.waiver_not_signed": "Please read the agreement and tick the box to accept it.",
    "settings.error.reauthentication_failed": "The response is not correct.",
    "settings.error.already_used": "This response was already used; wait for a new one.",
    "settings.error.opt_out_closed": "The confirmation has ended; sign the agreement again.",
    "settings.error.locked": "Too many wrong attempts: try again later.",
    "settings.error.generic": "The request could not be completed.",
    "console.compliance": "Share requests",
    "console.compliance.text": "Approve or reject device-sharing requests between users "
    "of different entities with the same identification data (R-SHARE-4).",
    "console.compliance.heading": "Share requests waiting for Compliance",
    "console.compliance.none": "No request is waiting.",
    "console.compliance.requester": "Requester",
    "console.compliance.owner": "Device owner",
    "console.compliance.device": "Device",
    "console.compliance.created": "Requested",
    "console.compliance.reason": "Reason",
    "console.compliance.approve": "Approve",
    "console.compliance.reject": "Reject",
    "console.compliance.done": "Decision recorded.",
    "console.error.share_request_decided": "This share request is not waiting for a "
    "decision any more.",
    "console.error.share_request_not_found": "No such share request.",
}

ZH_CN: dict[str, str] = {
    "nav.settings": "安全设置",
    "settings.heading": "安全设置",
    "settings.intro": "管理安全登录系统如何保护您的用户名：您的安全设备、设备共享以及是否参加"
    "安全登录系统。",
    "settings.status": "安全登录系统",
    "settings.status.in": "您已参加安全登录系统。",
    "settings.status.out": "您已于{date}退出安全登录系统。",
    "settings.status.out_risk": "退出安全登录系统的客户将面临一定风险，因此须受到某些限制"
    "（例如无法交易粉单和OTCBB股票、取款限额较低）。考虑到这一点以及完整的安全登录系统保护"
    "所带来的好处，您可以决定重新加入安全登录系统。",
    "settings.not_primary": "您的用户名无权更改安全设置。请联系拥有该权限的用户：",
    "settings.not_primary.account": "账户{account}：{users}",
    "settings.not_primary.none": "您的用户名没有可更改安全设置的账户。",
    "settings.links": "设备与申请",
    "settings.link.mobile_key": "激活移动验证程序",
    "settings.link.share": "共享另一个用户名下的安全设备",
    "settings.link.online_card": "在线安全代码卡",
    "settings.link.replacement": "申请替换实体设备",
    "settings.link.returns": "退还安全设备",
    "settings.opt_out": "退出安全登录系统",
    "settings.opt_out.text": "退出后，交易平台仅凭用户名和密码即可登录。请在决定前阅读协议。",
    "settings.opt_out.disabled": "本系统不提供退出安全登录系统的选项。",
    "settings.opt_in": "重新加入安全登录系统",
    "settings.opt_in.text": "请选择保护登录的方式：",
    "settings.opt_in.mobile_key": "在手机上安装并激活移动验证程序",
    "settings.opt_in.online_card": "不使用移动验证程序参加：在实体设备到达前使用在线安全代码卡",
    "settings.opt_in.share": "我已可以使用另一个用户名下的安全登录设备",
    "settings.opt_in.submit": "继续",
    "settings.done.opted_out": "您已退出安全登录系统。您签署的协议已保存。",
    "settings.done.opted_in": "您已重新加入安全登录系统。",
    "settings.done.share_approved": "您的共享申请已获批准。共享设备现在保护您的用户名；"
    "下次登录时请使用该设备。",
    "settings.done.share_failed": "您的共享申请未成功：所有人的设备未予确认。",
    "settings.done.share_pending": "您的共享申请需要合规部门批准，在此之前将处于待处理状态。",
    "settings.requests": "您的共享申请",
    "settings.requests.none": "您尚未提交共享申请。",
    "settings.col.owner": "设备所有人",
    "settings.col.device": "设备",
    "settings.col.status": "状态",
    "settings.col.date": "日期",
    "share.status.challenge": "等待设备回应",
    "share.status.failed": "失败",
    "share.status.pending_compliance": "待处理（合规部门）",
    "share.status.approved": "已批准",
    "share.status.rejected": "已拒绝",
    "optout.heading": "退出安全登录系统",
    "optout.read": "请仔细阅读以下协议。",
    "optout.version": "版本{version}",
    "optout.accept": "本人已阅读上述协议，接受其条款及风险。",
    "optout.submit": "签署并退出",
    "optout.confirm.heading": "确认退出",
    "optout.confirm.intro": "请操作您的设备并输入其回应以确认。",
    "optout.confirm.password": "请再次输入密码以签署协议。",
    "optout.confirm.push": "已向您的移动密钥发送通知。请核对其显示的号码，然后批准。",
    "optout.answer": "回应",
    "optout.cancel": "取消",
    "optin.card.heading": "您的在线安全代码卡",
    "optin.card.intro": "请立即打印或抄写这些数值：它们只显示一次。然后回答卡上两个位置的"
    "数值以激活该卡。",
    "optin.card.position": "位置",
    "optin.card.value": "数值",
    "optin.card.next": "该卡激活后，请返回安全设置并重新加入安全登录系统。",
    "share.heading": "共享安全设备",
    "share.intro": "在可能的候选设备中，找出保护级别最高的设备及其所属用户（我们称该用户为"
    "设备所有人）。使用申请用户（而非设备所有人）登录，然后输入设备所有人的用户名和密码。",
    "share.rules": "只有在以下条件全部满足时才可共享：用户属于同一人（同一实体，或身份信息"
    "相同）；两个用户均未持有临时设备（临时码、在线安全代码卡）；共享的设备是最安全的设备。"
    "申请获批后，您自己的设备将停用。",
    "share.owner": "设备所有人的用户名",
    "share.owner_password": "设备所有人的密码",
    "share.device": "设备编号（可选；默认为所有人最安全的设备）",
    "share.submit": "继续",
    "share.challenge.heading": "使用所有人的设备确认",
    "share.challenge.intro": "请操作{owner}的设备并输入其回应。",
    "share.challenge.push": "已向{owner}的移动密钥发送通知。请核对其显示的号码并确认；"
    "本页面将自动继续。",
    "share.answer": "回应",
    "share.submit_answer": "确定",
    "share.error.less_secure_device": "安全性较低的设备：您选择共享的设备安全性较低。请找出"
    "最安全的设备并共享该设备。",
    "share.error.identity_mismatch": "两个用户不属于同一人：其身份信息不同。",
    "share.error.temporary_device_assigned": "其中一个用户持有临时设备（临时码或在线安全"
    "代码卡）。请在永久设备激活后再共享。",
    "share.error.requester_is_owner": "请使用申请用户（而非设备所有人）登录，并输入设备所有人"
    "的用户名。",
    "share.error.device_not_shareable": "此类设备不可共享。请共享实体设备或移动验证程序。",
    "share.error.device_not_active": "要共享的设备未激活。",
    "share.error.already_shared": "该设备已在保护您的用户名，或共享申请正在处理中。",
    "share.error.owner_authentication_failed": "设备所有人的用户名、密码或设备回应不正确。",
    "settings.error.not_primary_user": "您的用户名无权更改安全设置。",
    "settings.error.opt_out_disabled": "本系统不提供退出安全登录系统的选项。",
    "settings.error.already_opted_out": "您已退出安全登录系统。",
    "settings.error.not_opted_out": "您已参加安全登录系统。",
    "settings.error.waiver_not_signed": "请阅读协议并勾选以表示接受。",
    "settings.error.reauthentication_failed": "回应不正确。",
    "settings.error.already_used": "该回应已使用过，请等待新的回应。",
    "settings.error.opt_out_closed": "确认已结束，请重新签署协议。",
    "settings.error.locked": "错误次数过多：请稍后再试。",
    "settings.error.generic": "无法完成该请求。",
    "console.compliance": "共享申请",
    "console.compliance.text": "批准或拒绝身份信息相同的不同实体用户之间的设备共享申请"
    "(R-SHARE-4)。",
    "console.compliance.heading": "等待合规部门处理的共享申请",
    "console.compliance.none": "没有待处理的申请。",
    "console.compliance.requester": "申请人",
    "console.compliance.owner": "设备所有人",
    "console.compliance.device": "设备",
    "console.compliance.created": "申请时间",
    "console.compliance.reason": "理由",
    "console.compliance.approve": "批准",
    "console.compliance.reject": "拒绝",
    "console.compliance.done": "决定已记录。",
    "console.error.share_request_decided": "该共享申请已不再等待决定。",
    "console.error.share_request_not_found": "没有该共享申请。",
}
