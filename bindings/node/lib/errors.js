'use strict';
/*
 * Errors. Every failure is a DadRatingsError (an Error) or one of its subclasses, with
 *   err.status  the dr_status number of include/dadratings.h (1 = DR_E_INVALID_ARGUMENT...)
 *   err.code    its name as a string ('DR_E_INVALID_ARGUMENT'...), the Node convention
 *   err.message the library's detail (dr_last_error_message(), read on the thread that made
 *               the failed call), or dr_strerror()'s text when the library gave none.
 */

/** dr_status values, in header order. Index = number. */
const STATUS_NAMES = [
  'DR_OK', 'DR_E_INVALID_ARGUMENT', 'DR_E_NOMEM', 'DR_E_NOT_IMPLEMENTED', 'DR_E_CONFIG',
  'DR_E_CREDENTIALS', 'DR_E_AUTH', 'DR_E_NETWORK', 'DR_E_TIMEOUT', 'DR_E_THROTTLED',
  'DR_E_SERVICE', 'DR_E_VALIDATION', 'DR_E_CONDITION_FAILED', 'DR_E_TRANSACTION_CANCELED',
  'DR_E_TRANSACTION_CONFLICT', 'DR_E_NOT_FOUND', 'DR_E_CHECKSUM', 'DR_E_PROTOCOL',
  'DR_E_IN_USE', 'DR_E_RETRY_QUOTA', 'DR_E_CLOSED', 'DR_E_INTERNAL',
];
const Status = Object.freeze(Object.fromEntries(STATUS_NAMES.map((n, i) => [n, i])));

class DadRatingsError extends Error {
  /**
   * @param {string} message
   * @param {number} [status] a dr_status (default DR_E_INTERNAL)
   */
  constructor(message, status = Status.DR_E_INTERNAL) {
    super(message);
    this.name = new.target.name;
    this.status = status;
    this.code = STATUS_NAMES[status] || `DR_E_${status}`;
  }
}
/** Bad input: a field is missing, mistyped or out of range (the message names it). */
class InvalidInputError extends DadRatingsError {}
/** Configuration is incomplete or inconsistent (no region, bad endpoint URL...). */
class ConfigError extends DadRatingsError {}
/** Credentials were refused, or no provider yielded any. */
class AuthError extends DadRatingsError {}
/** The connection failed or timed out (after the library's retries). */
class NetworkError extends DadRatingsError {}
/** Throttled by the service after the retries (or the retry quota is spent): slow down. */
class ThrottledError extends DadRatingsError {}
/** A table or index does not exist. */
class NotFoundError extends DadRatingsError {}
/** A condition, transaction or resource-in-use conflict. */
class ConflictError extends DadRatingsError {}
/** The service failed (5xx, bad checksum, unreadable answer) after the retries. */
class ServiceError extends DadRatingsError {}
/**
 * DynamoDB refused the request (ValidationException, DR_E_VALIDATION): the tables do not
 * match what the library expects (a missing index, another key schema). Not bad input,
 * which the library checks itself (InvalidInputError).
 */
class ServiceValidationError extends ServiceError {}
/** The client was closed. */
class ClosedError extends DadRatingsError {}

const CLASS_OF = {
  [Status.DR_E_INVALID_ARGUMENT]: InvalidInputError,
  [Status.DR_E_VALIDATION]: ServiceValidationError,
  [Status.DR_E_CONFIG]: ConfigError,
  [Status.DR_E_CREDENTIALS]: AuthError,
  [Status.DR_E_AUTH]: AuthError,
  [Status.DR_E_NETWORK]: NetworkError,
  [Status.DR_E_TIMEOUT]: NetworkError,
  [Status.DR_E_THROTTLED]: ThrottledError,
  [Status.DR_E_RETRY_QUOTA]: ThrottledError,
  [Status.DR_E_NOT_FOUND]: NotFoundError,
  [Status.DR_E_CONDITION_FAILED]: ConflictError,
  [Status.DR_E_TRANSACTION_CANCELED]: ConflictError,
  [Status.DR_E_TRANSACTION_CONFLICT]: ConflictError,
  [Status.DR_E_IN_USE]: ConflictError,
  [Status.DR_E_SERVICE]: ServiceError,
  [Status.DR_E_CHECKSUM]: ServiceError,
  [Status.DR_E_PROTOCOL]: ServiceError,
  [Status.DR_E_CLOSED]: ClosedError,
};

/** The error for a dr_status and the library's message. */
function fromStatus(status, message) {
  const Cls = CLASS_OF[status] || DadRatingsError;
  return new Cls(message || STATUS_NAMES[status] || `dr_status ${status}`, status);
}

/** A bad argument detected by the binding itself (before the library sees it). */
function invalid(message) {
  return new InvalidInputError(message, Status.DR_E_INVALID_ARGUMENT);
}

module.exports = {
  Status, STATUS_NAMES, fromStatus, invalid,
  DadRatingsError, InvalidInputError, ConfigError, AuthError, NetworkError, ThrottledError,
  NotFoundError, ConflictError, ServiceError, ServiceValidationError, ClosedError,
};
