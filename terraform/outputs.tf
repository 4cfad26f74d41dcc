# What the application and operators need: the names go into DYNAMODB_RATINGS_TABLE and
# DYNAMODB_STATS_TABLE of every service using the library.

output "ratings_table_name" {
  description = "Ratings table (DYNAMODB_RATINGS_TABLE)."
  value       = aws_dynamodb_table.joke_ratings.name
}

output "stats_table_name" {
  description = "Stats table (DYNAMODB_STATS_TABLE)."
  value       = aws_dynamodb_table.joke_stats.name
}

output "ratings_table_arn" {
  value = aws_dynamodb_table.joke_ratings.arn
}

output "stats_table_arn" {
  value = aws_dynamodb_table.joke_stats.arn
}

output "ratings_stream_arn" {
  description = "The ratings table's stream, read by the aggregator."
  value       = aws_dynamodb_table.joke_ratings.stream_arn
}

output "aggregator_function_name" {
  value = aws_lambda_function.ratings_aggregator.function_name
}

output "aggregator_log_group" {
  value = aws_cloudwatch_log_group.aggregator.name
}

output "failure_queue_url" {
  description = "Positions of stream batches the aggregator gave up on; replay them within 24 h."
  value       = aws_sqs_queue.aggregator_failures.url
}
