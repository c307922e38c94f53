"""Baomi service: scan API, CMS gate, review workflow (申请 → 保密审查 → 修改 → 审批 → 发布), audit record."""
