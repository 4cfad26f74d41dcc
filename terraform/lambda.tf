# The stream aggregator: the library's C custom runtime (an executable named bootstrap
# that speaks the Lambda Runtime API and applies each batch with
# dr_client_apply_stream_batch()). Build the package first: see README.md.

resource "aws_lambda_function" "ratings_aggregator" {
  function_name = local.function_name
  description   = "Applies the ratings table's stream to the stats table, exactly once per record."
  role          = aws_iam_role.lambda_role.arn
  runtime       = "provided.al2023"
  handler       = "bootstrap" # a custom runtime ignores it; the executable's name is what counts
  architectures = [var.lambda_architecture]
  memory_size   = var.lambda_memory_mb
  timeout       = var.lambda_timeout_seconds

  filename         = local.lambda_zip_path
  source_code_hash = filebase64sha256(local.lambda_zip_path)

  environment {
    variables = {
      # The names the library reads (src/client/client.c); AWS_REGION and the credentials are
      # set by Lambda itself.
      DYNAMODB_RATINGS_TABLE = aws_dynamodb_table.joke_ratings.name
      DYNAMODB_STATS_TABLE   = aws_dynamodb_table.joke_stats.name
      # Read by the bootstrap (lambda/bootstrap.c).
      DR_GLOBAL_SHARDS = tostring(var.global_shards)
      DR_LOG_LEVEL     = var.aggregator_log_level
    }
  }

  # The log group must exist (with its retention) before the first invocation, or Lambda
  # creates one that keeps logs forever; the policy must be attached before the function
  # can run.
  depends_on = [
    aws_cloudwatch_log_group.aggregator,
    aws_iam_role_policy.lambda_dynamodb,
  ]
}

# Created here, not by Lambda, so that it has a retention and the role needs no
# logs:CreateLogGroup.
resource "aws_cloudwatch_log_group" "aggregator" {
  name              = "/aws/lambda/${local.function_name}"
  retention_in_days = var.log_retention_days
}
