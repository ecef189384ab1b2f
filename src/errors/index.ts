export { ERROR_CODES, type ErrorCode } from './codes.js';
export { AksEmuError } from './aks-emu-error.js';
export { formatFieldError, formatLocatedFieldError, ManifestInvalidError, type FieldError, type FieldErrorType } from './field-error.js';
export { ApiStatusError, toStatus, type KubeStatus, type StatusDetails, type StatusReason } from './api-status-error.js';
