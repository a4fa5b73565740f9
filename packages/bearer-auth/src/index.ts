export { bearerAuth, requireScopes } from './bearer-auth.js';
export type { BearerAuthOptions } from './bearer-auth.js';
export { formatBearerChallenge } from './challenge.js';
export type { BearerChallenge } from './challenge.js';
export { extractBearerToken } from './extract.js';
export { HEADER_MISMATCH } from './mcp-operations.js';
export type { McpOperation, McpOperationScopes } from './mcp-operations.js';
export type { ScopeHierarchy } from './scope-check.js';
export type { NextFunction, NodeMiddleware } from '@portcullis/protected-resource-metadata';
