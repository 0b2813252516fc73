// What the whole app shares: who is signed in, their workspaces, and the
// role table (mirrors common/include/mgteam/rbac.h) used to show only the
// controls a role may use. The server enforces the same table regardless.

export const state = {
  me: null,          // {id, name, email}
  workspaces: [],    // [{id, name, type, role, ...}]
  ws: null,          // the current workspace object
};

const TABLE = {
  'memory.read': ['owner', 'admin', 'member', 'viewer'],
  'memory.write': ['owner', 'admin', 'member'],
  'memory.delete': ['owner', 'admin'],
  'team.read': ['owner', 'admin', 'member', 'viewer'],
  'team.write': ['owner', 'admin'],
  'team.delete': ['owner'],
  'member.invite': ['owner', 'admin'],
  'member.remove': ['owner', 'admin'],
  'member.change_role': ['owner'],
};

export function can(permission, role = state.ws && state.ws.role) {
  return !!role && (TABLE[permission] || []).includes(role);
}

export const ROLES = ['owner', 'admin', 'member', 'viewer'];

export const MEMORY_TYPES = ['general', 'task', 'code_pattern', 'problem', 'solution', 'project', 'technology',
  'error', 'fix', 'command', 'file_context', 'workflow', 'conversation'];

export const ACTIONS = ['created', 'updated', 'deleted', 'restored', 'joined', 'removed', 'role_changed',
  'resolved', 'revoked', 'resent'];

export function wsPath(rest = 'feed', ws = state.ws && state.ws.id) {
  return `#/w/${ws}/${rest}`;
}
