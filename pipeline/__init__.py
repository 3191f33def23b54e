"""nianbao: compiles the annual government-information-disclosure reports (政府信息公开工作年度报告)."""
