export { ERROR_CODES, type ErrorCode } from './codes.js';
export { AksEmuError } from './aks-emu-error.js';
export {
  formatFieldError,
  formatLocatedFieldError,
  ManifestInvalidError,
  type FieldError,
  type FieldErrorType,
} from './field-error.js';
