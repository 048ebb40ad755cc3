// /admin: go to the last workspace used, or to the workspace list.
export async function render(root, ctx) {
  const all = await ctx.loadWorkspaces(true);
  const last = localStorage.getItem('ag.workspace');
  const pick = all.find((w) => w.id === last) ?? (all.length === 1 ? all[0] : null);
  ctx.navigate(pick ? `/admin/w/${pick.id}/connect` : '/admin/workspaces', { replace: true });
}
