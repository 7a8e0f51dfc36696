// The roles of users and API tokens, lowest first: viewers read, ops also operate
// (trigger, pause, clear, edit pools, variables and connections), admins also manage users
// and see everyone's tokens.
export const USER_ROLES = ['viewer', 'op', 'admin'] as const;
export type UserRole = (typeof USER_ROLES)[number];

export const rankOf = (role: UserRole): number => USER_ROLES.indexOf(role);
