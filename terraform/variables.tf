variable "environment" {
  description = "Environment name (dev, staging, prod): the suffix of every resource name."
  type        = string
  default     = "prod"

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{0,19}$", var.environment))
    error_message = "environment must be 1-20 characters of a-z, 0-9 and '-'."
  }
}

variable "ratings_table_name" {
  description = "Ratings table name; null means dad-jokes-ratings-<environment>, the library's default for prod."
  type        = string
  default     = null
}

variable "stats_table_name" {
  description = "Stats table name; null means dad-jokes-stats-<environment>, the library's default for prod."
  type        = string
  default     = null
}

variable "deletion_protection" {
  description = "Refuse to delete the tables (terraform destroy fails until this is false and applied)."
  type        = bool
  default     = true
}

variable "lambda_zip_path" {
  description = "The aggregator's deployment package (an executable named bootstrap at its root), built by `cmake --build build --target lambda_zip`; null means ../build/lambda/bootstrap.zip."
  type        = string
  default     = null
}

# No default: it must be the architecture of the machine that built the zip (`uname -m`:
# aarch64 means arm64), and a wrong guess fails only at the first invocation.
variable "lambda_architecture" {
  description = "CPU architecture the bootstrap in lambda_zip_path was compiled for: arm64 (Graviton, cheaper per ms) or x86_64."
  type        = string

  validation {
    condition     = contains(["arm64", "x86_64"], var.lambda_architecture)
    error_message = "lambda_architecture must be \"arm64\" or \"x86_64\"."
  }
}

variable "lambda_memory_mb" {
  description = "Aggregator memory (MB); Lambda gives CPU in proportion."
  type        = number
  default     = 256

  validation {
    condition     = var.lambda_memory_mb >= 128 && var.lambda_memory_mb <= 10240
    error_message = "lambda_memory_mb must be between 128 and 10240."
  }
}

variable "lambda_timeout_seconds" {
  description = "Aggregator timeout per batch; a timed-out batch is retried (bisected), and applying it again is safe."
  type        = number
  default     = 60

  validation {
    condition     = var.lambda_timeout_seconds >= 1 && var.lambda_timeout_seconds <= 900
    error_message = "lambda_timeout_seconds must be between 1 and 900."
  }
}

variable "log_retention_days" {
  description = "How long CloudWatch keeps the aggregator's logs."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a value CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, ... 3653)."
  }
}

variable "global_shards" {
  description = "GLOBAL counter shards the aggregator writes (1..64); 1 is the layout the JavaScript services read. Use the same value as the writers' dr_config_set_global_shards()."
  type        = number
  default     = 1

  validation {
    condition     = var.global_shards >= 1 && var.global_shards <= 64 && floor(var.global_shards) == var.global_shards
    error_message = "global_shards must be an integer between 1 and 64."
  }
}

variable "aggregator_log_level" {
  description = "The library's log level in the aggregator (off, error, warn, info, debug); the bootstrap logs one line per batch whatever it is."
  type        = string
  default     = "warn"

  validation {
    condition     = contains(["off", "error", "warn", "info", "debug"], var.aggregator_log_level)
    error_message = "aggregator_log_level must be off, error, warn, info or debug."
  }
}

variable "stream_batch_size" {
  description = "Stream records per aggregator invocation."
  type        = number
  default     = 100

  validation {
    condition     = var.stream_batch_size >= 1 && var.stream_batch_size <= 10000
    error_message = "stream_batch_size must be between 1 and 10000."
  }
}

variable "stream_parallelization_factor" {
  description = "Concurrent batches per stream shard (1..10); records of one rating (one partition key) stay in order."
  type        = number
  default     = 2

  validation {
    condition     = var.stream_parallelization_factor >= 1 && var.stream_parallelization_factor <= 10
    error_message = "stream_parallelization_factor must be between 1 and 10."
  }
}

variable "stream_maximum_retry_attempts" {
  description = "Retries of a failing batch before its position is sent to the failure queue. Bounded: -1 (forever) would block the shard."
  type        = number
  default     = 10

  validation {
    condition     = var.stream_maximum_retry_attempts >= 0 && var.stream_maximum_retry_attempts <= 10000
    error_message = "stream_maximum_retry_attempts must be between 0 and 10000 (not -1: an endless retry blocks the shard)."
  }
}

variable "stream_maximum_record_age_seconds" {
  description = "Records older than this are not retried but sent to the failure queue. Keep it well under the stream's 24 h retention so that a replay from the queue's positions is still possible."
  type        = number
  default     = 3600

  validation {
    condition     = var.stream_maximum_record_age_seconds >= 60 && var.stream_maximum_record_age_seconds <= 43200
    error_message = "stream_maximum_record_age_seconds must be between 60 and 43200 (12 h: half the stream's 24 h retention)."
  }
}

variable "alarm_actions" {
  description = "ARNs (e.g. an SNS topic) notified when a batch lands in the failure queue."
  type        = list(string)
  default     = []
}

variable "tags" {
  description = "Extra tags for every resource."
  type        = map(string)
  default     = {}
}

locals {
  # The library's defaults (src/client/config.h) are dad-jokes-ratings-prod / dad-jokes-stats-prod.
  ratings_table_name = coalesce(var.ratings_table_name, "dad-jokes-ratings-${var.environment}")
  stats_table_name   = coalesce(var.stats_table_name, "dad-jokes-stats-${var.environment}")
  function_name      = "dad-jokes-ratings-aggregator-${var.environment}"
  lambda_zip_path    = coalesce(var.lambda_zip_path, "${path.module}/../build/lambda/bootstrap.zip")

  tags = merge(var.tags, {
    Application = "dad-jokes"
    Environment = var.environment
  })
}
