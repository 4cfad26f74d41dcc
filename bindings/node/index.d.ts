// Type declarations of the `dadratings` package: the Node binding of libdadratings.

/** Star counts of one joke, an author or all jokes. */
export interface Counts {
  1: number; 2: number; 3: number; 4: number; 5: number;
}

/** readStats()/writeRating() result for a joke that has ratings. */
export interface RatedJokeStats {
  counts: Counts;
  totalRatings: number;
  /** totalScore / totalRatings, rounded to 2 decimals as Number(x.toFixed(2)) does. */
  average: number;
  jokeId: string;
  /** ISO-8601 time of the newest rating. */
  lastRatedAt: string | null;
  /**
   * Stream aggregation only: true when the result folds in a rating the aggregator has not
   * applied yet. Not enumerable, so the object keeps the original module's shape.
   */
  readonly pending?: boolean;
}

/** readStats() result for a joke nobody rated yet (the original module's shape). */
export interface UnratedJokeStats {
  counts: Counts;
  totalRatings: 0;
  average: 0;
  ratings: [];
  jokeId: string;
}

export type JokeStats = RatedJokeStats | UnratedJokeStats;

export interface AuthorTotals {
  author: string;
  totalRatings: number;
  average: number;
}

export interface TopPerformer {
  jokeId: string;
  /** undefined (key present) when the joke was rated without its text, as in the original. */
  joke: string | null | undefined;
  author: string | null | undefined;
  totalRatings: number;
  /** The index's average, 2 decimals. */
  average: number;
  lastRatedAt: string | null | undefined;
}

export interface RecentRating {
  jokeId: string;
  rating: number;
  joke: string | null | undefined;
  author: string | null | undefined;
  mode: 'daily' | 'live' | null | undefined;
  date: string | null | undefined;
  submittedAt: string | null | undefined;
}

export interface DashboardStats {
  totals: {
    overallRatings: number;
    overallAverage: number;
    /** Number of jokes with at least one rating. */
    uniqueJokes: number;
    ratingCounts: Counts;
    /** Most ratings first, ties by name. */
    byAuthor: AuthorTotals[];
  };
  ratingDistribution: {
    overall: Counts;
    byAuthor: Record<string, Counts>;
  };
  /** At most 8 jokes with >= 3 ratings, best average first (ties: more ratings, then jokeId descending). */
  topPerformers: TopPerformer[];
  /** The newest 20 ratings, newest first. */
  recentRatings: RecentRating[];
}

export interface RatingInput {
  /** Non-empty, at most 256 UTF-8 bytes, no '#', no control characters. */
  jokeId: string;
  /** An integer 1..5 (a string or a fraction is refused, not converted). */
  rating: number;
  /** The joke's text, at most 8 KiB. undefined, null or '' leave it unset. */
  joke?: string | null;
  /** At most 256 bytes, no '#'. Unset: "Unknown". */
  author?: string | null;
  /** Unset: "live". */
  mode?: 'daily' | 'live' | null;
  /** "YYYY-MM-DD". Unset: the UTC day of submission. */
  dateKey?: string | null;
  /** 1..128 of A-Z a-z 0-9 . _ : - : repeated writes with the same key count once. */
  idempotencyKey?: string | null;
  /**
   * When the rating was given, as Date's toISOString() writes it ("2026-01-30T15:30:00.000Z";
   * an offset such as "+01:00" is accepted). Unset: the time of the write. During the
   * migration, pass the time written to S3 with `idempotencyKey: importIdentity(bucket, key)`.
   */
  submittedAt?: string | null;
}

export interface ClientOptions {
  /** Unset: AWS_REGION, AWS_DEFAULT_REGION, the profile's region. */
  region?: string;
  /** e.g. "http://127.0.0.1:8000". Unset: AWS_ENDPOINT_URL_DYNAMODB, AWS_ENDPOINT_URL, AWS. Plain http only for loopback. */
  endpoint?: string;
  /** First in the credential chain; then the environment, the shared files, container and instance metadata. */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Profile of the shared config files. Unset: AWS_PROFILE, then "default". */
  profile?: string;
  /** Unset: DYNAMODB_RATINGS_TABLE, then "dad-jokes-ratings-prod". */
  ratingsTable?: string;
  /** Unset: DYNAMODB_STATS_TABLE, then "dad-jokes-stats-prod". */
  statsTable?: string;
  /** Default 3,100 ms. */
  connectTimeoutMs?: number;
  /** Whole-attempt timeout; default 10,000 ms. */
  requestTimeoutMs?: number;
  /** Attempts per request including the first, 1..10; default 3. */
  maxAttempts?: number;
  /** Default "inline": one transaction writes the rating and its aggregates. */
  aggregationMode?: 'inline' | 'stream';
  /** Spread the GLOBAL counters over 1..64 items; default 1 (the layout the JavaScript services read). */
  globalShards?: number;
  /** Cache the dashboard this long (ms, 0..3600000; 0, the default, is no cache): concurrent
   * calls share one fetch, and a result at most this old is returned without a request. */
  dashboardMaxAgeMs?: number;
  /** Worker threads running this client's calls (so many requests in flight at once), 1..64; default 4. */
  threads?: number;
}

/** Counters of one client: they only grow. */
export interface Counters {
  requests: number; attempts: number; retries: number; bytesSent: number; bytesReceived: number;
  errorsThrottled: number; errorsService: number; errorsNetwork: number; errorsChecksum: number;
  errorsClient: number; transactionConflicts: number;
}

/** What applyStreamBatch did; `batchItemFailures` is the Lambda partial batch response. */
export interface StreamBatchResult {
  /** Records counted, moved or un-counted by this call. */
  applied: number;
  /** Records that change nothing (inline-written, TTL removals, not ratings). */
  skipped: number;
  /** Records applied before (redelivered). */
  duplicates: number;
  /** Records not applied, to be delivered again: the first failure and every record after it. */
  batchItemFailures: { itemIdentifier: string }[];
}

export class DadRatingsClient {
  /** @throws InvalidInputError or ConfigError, synchronously, for bad options. */
  constructor(options?: ClientOptions);
  /** Store a rating; resolves with the joke's stats including it. */
  writeRating(input: RatingInput): Promise<RatedJokeStats>;
  /** One joke's statistics (one GetItem). */
  readStats(input: { jokeId: string }): Promise<JokeStats>;
  /** Several jokes' statistics (1..1000 ids) in one call, in input order. */
  readStatsMany(input: { jokeIds: string[] }): Promise<JokeStats[]>;
  /** The dashboard (a fixed number of requests). */
  getDashboardStats(): Promise<DashboardStats>;
  /**
   * Apply a batch of the ratings table's stream records (a Lambda event, a GetRecords response,
   * an array of records, or their JSON text) exactly once per record. Stream mode.
   */
  applyStreamBatch(records: object | unknown[] | string): Promise<StreamBatchResult>;
  /** Create both tables unless they exist; by default waits until they are ACTIVE. */
  createTables(options?: { wait?: boolean }): Promise<void>;
  /** The client's counters, now. @throws ClosedError after close(). */
  counters(): Counters;
  /**
   * What the client resolved; credentialSource is '' until a request has resolved credentials
   * ('environment', 'profile:NAME', 'assume-role:NAME', 'web-identity', 'sso:NAME', 'process:NAME',
   * 'container', 'imds', 'explicit'). @throws ClosedError after close().
   */
  describe(): { region: string; endpoint: string; streamsEndpoint: string; credentialSource: string };
  /** New calls reject with ClosedError; calls already made finish; then everything is freed. Idempotent. */
  close(): Promise<void>;
  readonly closed: boolean;
}

/** The original module's writeRating, on the default client (configured from the environment). */
export function writeRating(input: RatingInput): Promise<RatedJokeStats>;
/** The original module's readStats, on the default client. */
export function readStats(input: { jokeId: string }): Promise<JokeStats>;
/** The original module's getDashboardStats, on the default client. */
export function getDashboardStats(): Promise<DashboardStats>;
/** The default client, made on first use from the environment. */
export function getDefaultClient(): DadRatingsClient;
/**
 * The idempotency key the import gives one rating of the old S3 tree: "s3v1:" and 64 hex digits,
 * the same in every run of the import (dr_import_identity). Synchronous, no request.
 * @param index the rating's index in the object; default 0 (an object holding one rating).
 * @throws InvalidInputError for a bucket or key that is not a string or holds a NUL, or an
 *         index that is not an integer 0..2**53-1.
 */
export function importIdentity(bucket: string, key: string, index?: number): string;
/** The loaded library's version, e.g. "1.3.0". */
export function version(): string;
/** The library file that was loaded. */
export const libraryPath: string;

/** dr_status values of include/dadratings.h. */
export const Status: Readonly<{
  DR_OK: 0; DR_E_INVALID_ARGUMENT: 1; DR_E_NOMEM: 2; DR_E_NOT_IMPLEMENTED: 3; DR_E_CONFIG: 4;
  DR_E_CREDENTIALS: 5; DR_E_AUTH: 6; DR_E_NETWORK: 7; DR_E_TIMEOUT: 8; DR_E_THROTTLED: 9;
  DR_E_SERVICE: 10; DR_E_VALIDATION: 11; DR_E_CONDITION_FAILED: 12; DR_E_TRANSACTION_CANCELED: 13;
  DR_E_TRANSACTION_CONFLICT: 14; DR_E_NOT_FOUND: 15; DR_E_CHECKSUM: 16; DR_E_PROTOCOL: 17;
  DR_E_IN_USE: 18; DR_E_RETRY_QUOTA: 19; DR_E_CLOSED: 20; DR_E_INTERNAL: 21;
}>;

/** Every failure. `message` is the library's detail (it names the bad field, the service's error...). */
export class DadRatingsError extends Error {
  /** The dr_status number. */
  readonly status: number;
  /** The dr_status name, e.g. "DR_E_INVALID_ARGUMENT". */
  readonly code: string;
}
/** Bad input (DR_E_INVALID_ARGUMENT): the message names the field. */
export class InvalidInputError extends DadRatingsError {}
/** DR_E_CONFIG. */
export class ConfigError extends DadRatingsError {}
/** DR_E_AUTH, DR_E_CREDENTIALS. */
export class AuthError extends DadRatingsError {}
/** DR_E_NETWORK, DR_E_TIMEOUT. */
export class NetworkError extends DadRatingsError {}
/** DR_E_THROTTLED, DR_E_RETRY_QUOTA. */
export class ThrottledError extends DadRatingsError {}
/** DR_E_NOT_FOUND: a table or index does not exist. */
export class NotFoundError extends DadRatingsError {}
/** DR_E_CONDITION_FAILED, DR_E_TRANSACTION_CANCELED, DR_E_TRANSACTION_CONFLICT, DR_E_IN_USE. */
export class ConflictError extends DadRatingsError {}
/** DR_E_SERVICE, DR_E_CHECKSUM, DR_E_PROTOCOL. */
export class ServiceError extends DadRatingsError {}
/** DR_E_VALIDATION: DynamoDB refused the request (ValidationException), e.g. tables without the expected index or key schema. Not bad input. */
export class ServiceValidationError extends ServiceError {}
/** The client was closed (DR_E_CLOSED). */
export class ClosedError extends DadRatingsError {}
