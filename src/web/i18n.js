// ladder — the one small i18n table of the pages: Chinese first, English beside.
// t(key) gives [zh, en]; tn(key) gives nodes (zh + <span class="en">en</span>).

export const TEXT = {
  // navigation and session
  nav_portal: ["企业申报", "Company portal"],
  nav_review: ["审核", "Review"],
  nav_dashboard: ["指标进度", "Dashboard"],
  nav_publicity: ["公示", "Publicity"],
  sign_in: ["登录", "Sign in"],
  sign_out: ["退出", "Sign out"],
  sign_up: ["注册企业账号", "Sign up"],
  username: ["用户名", "Username"],
  password: ["密码", "Password"],
  session_expired: ["登录已过期，请重新登录。", "Your session has expired, please sign in again."],
  need_credentials: ["请输入用户名和密码。", "Enter your username and password."],
  loading: ["正在加载…", "Loading…"],
  saved: ["已保存", "Saved"],
  not_available: ["此功能暂未开放", "Not available on this server yet"],
  none: ["暂无", "None"],
  // enterprise
  uscc: ["统一社会信用代码", "Unified social credit code"],
  ent_name: ["企业名称", "Enterprise name"],
  district: ["所在区县", "District"],
  cluster: ["产业集群", "Industry cluster"],
  founded_on: ["成立日期", "Founded on"],
  niche_entered_on: ["进入细分市场日期", "Entered the niche on"],
  verified: ["已核验", "Verified"],
  unverified: ["待核验", "Not yet verified"],
  // outcomes and states
  eligible: ["符合条件", "Eligible"],
  ineligible: ["暂不符合", "Not yet"],
  incomplete: ["缺少数据", "Missing data"],
  not_graded: ["未评估", "Not graded"],
  passed: ["符合", "Passed"],
  failed: ["不符合", "Failed"],
  undecided: ["待判断", "Undecided"],
  review_needed: ["待评审专家判断", "For the reviewer"],
  st_draft: ["草稿", "Draft"],
  st_submitted: ["已提交", "Submitted"],
  st_under_review: ["审核中", "Under review"],
  st_publicized: ["公示中", "In publicity"],
  st_approved: ["已通过", "Approved"],
  st_rejected: ["未通过", "Rejected"],
  st_returned: ["退回修改", "Returned"],
  st_withdrawn: ["已撤回", "Withdrawn"],
  // next steps
  ns_file_fact: ["补报数据", "File a fact"],
  ns_raise: ["提高指标", "Raise a value"],
  ns_obtain_title: ["先取得称号", "Obtain a title first"],
  ns_review: ["等待评审", "Awaiting a reviewer"],
  // decisions
  approve: ["通过", "Approve"],
  reject: ["不通过", "Reject"],
  return: ["退回修改", "Return"],
  yes: ["是", "Yes"],
  no: ["否", "No"]
};

export function t(key) {
  return TEXT[key] || [key, ""];
}

// "中文 English" as one string (for attributes, titles and status lines).
export function ts(key) {
  const [zh, en] = t(key);
  return en ? zh + " " + en : zh;
}
