# The ratings table's stream feeds the aggregator. Failure handling, in order:
#  1. the aggregator reports the records it could not apply (ReportBatchItemFailures);
#     Lambda retries from the first of them; records before it are not sent again;
#  2. a crash, a timeout, or a batch whose first record fails (the bootstrap answers
#     that with a function error) fails the whole batch: Lambda splits it in two and
#     retries each half, isolating a record that cannot be applied
#     (bisect_batch_on_function_error; splitting spends no retry);
#  3. after maximum_retry_attempts, or once a record is older than
#     maximum_record_age_in_seconds, Lambda gives up on the batch, sends its position
#     (shard, first/last sequence numbers, not the records) to the failure queue and
#     moves on, so one bad record never blocks its shard for 24 hours (docs/lambda.md
#     gives the whole argument; tests/terraform/check.cjs keeps both bounds finite).
# Every retry re-applies records that may already have been applied: the aggregator's
# markers make that a no-op (exactly once).
#
# A batch in the queue must be dealt with within the stream's 24 h retention: replay it
# from its sequence numbers (scripts or the library's stream follower) before the records
# expire. The alarm below says when that is needed.

resource "aws_sqs_queue" "aggregator_failures" {
  name                      = "dad-jokes-ratings-aggregator-failures-${var.environment}"
  message_retention_seconds = 1209600 # 14 days, the maximum: the record of a failure outlives the stream
  sqs_managed_sse_enabled   = true    # SSE-SQS: encrypted at rest, no KMS permissions needed to send
}

resource "aws_lambda_event_source_mapping" "ratings_stream" {
  event_source_arn = aws_dynamodb_table.joke_ratings.stream_arn
  function_name    = aws_lambda_function.ratings_aggregator.arn

  # TRIM_HORIZON, not the original's LATEST: the position only matters when the mapping
  # is created, and then LATEST silently skips every rating written between the table's
  # creation and the mapping's (the first apply creates both; the application may already
  # be writing), leaving the aggregates short forever. TRIM_HORIZON starts at the oldest
  # record still in the stream (at most 24 h); records the aggregator had applied before
  # are recognised by their markers and skipped.
  starting_position = "TRIM_HORIZON"

  batch_size             = var.stream_batch_size
  parallelization_factor = var.stream_parallelization_factor

  function_response_types        = ["ReportBatchItemFailures"]
  bisect_batch_on_function_error = true
  maximum_retry_attempts         = var.stream_maximum_retry_attempts
  maximum_record_age_in_seconds  = var.stream_maximum_record_age_seconds

  destination_config {
    on_failure {
      destination_arn = aws_sqs_queue.aggregator_failures.arn
    }
  }

  # Lambda checks the role's stream and queue permissions when the mapping is created.
  depends_on = [aws_iam_role_policy.lambda_dynamodb]
}

# Any message in the failure queue means ratings that are not in the aggregates yet.
resource "aws_cloudwatch_metric_alarm" "aggregator_failures" {
  alarm_name          = "dad-jokes-ratings-aggregator-failures-${var.environment}"
  alarm_description   = "A stream batch could not be aggregated: replay it from the sequence numbers in ${aws_sqs_queue.aggregator_failures.name} within 24 h."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = aws_sqs_queue.aggregator_failures.name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
}
