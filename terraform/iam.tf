# The aggregator's execution role, least privilege: each statement names the actions the
# aggregator's code sends and the one resource they touch. tests/terraform/check.cjs
# derives the DynamoDB actions from the C source and fails when this policy grants one
# more or one fewer.

data "aws_iam_policy_document" "lambda_assume" {
  statement {
    sid     = "LambdaAssumesRole"
    effect  = "Allow"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "lambda_role" {
  name               = "dad-jokes-lambda-role-${var.environment}"
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json
}

data "aws_iam_policy_document" "aggregator" {
  # The stats table, items only (no index, no Query, no Scan, no DeleteItem, no table
  # management). The aggregator (src/stream/aggregate.c) reads a joke's stats with GetItem,
  # several jokes' stats at once with BatchGetItem, and commits with TransactWriteItems:
  # Update items for the counters and a Put of each record's exactly-once marker,
  # conditional on its absence (a condition on a Put is part of the Put: no
  # dynamodb:ConditionCheckItem). There is no IAM action for TransactWriteItems itself:
  # each item is authorised as its underlying operation, Put as dynamodb:PutItem, Update
  # as dynamodb:UpdateItem ("Using IAM with DynamoDB transactions",
  # https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis-iam.html).
  statement {
    sid    = "StatsTableItems"
    effect = "Allow"
    actions = [
      "dynamodb:BatchGetItem",
      "dynamodb:GetItem",
      "dynamodb:PutItem",
      "dynamodb:UpdateItem",
    ]
    resources = [aws_dynamodb_table.joke_stats.arn]
  }

  # The event source mapping polls the stream with the function's role. This one stream
  # only, not <table>/stream/*: a stream re-created later gets a new ARN and a new
  # mapping, and terraform updates both together. ListStreams is in AWS's documented
  # policy for Lambda stream triggers
  # (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/iam-policy-example-lamda-process-dynamodb-streams.html).
  statement {
    sid    = "RatingsStreamRead"
    effect = "Allow"
    actions = [
      "dynamodb:DescribeStream",
      "dynamodb:GetRecords",
      "dynamodb:GetShardIterator",
      "dynamodb:ListStreams",
    ]
    resources = [aws_dynamodb_table.joke_ratings.stream_arn]
  }

  # Its own log group's streams; the group itself is created by terraform (lambda.tf).
  statement {
    sid    = "OwnLogs"
    effect = "Allow"
    actions = [
      "logs:CreateLogStream",
      "logs:PutLogEvents",
    ]
    resources = ["${aws_cloudwatch_log_group.aggregator.arn}:*"]
  }

  # On-failure destination: Lambda sends a failed batch's position with the function's
  # role (stream.tf).
  statement {
    sid       = "FailureQueueSend"
    effect    = "Allow"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.aggregator_failures.arn]
  }
}

# Address and name kept from the original terraform; it now holds the whole execution
# policy (logs and the failure queue too).
resource "aws_iam_role_policy" "lambda_dynamodb" {
  name   = "dynamodb-access"
  role   = aws_iam_role.lambda_role.id
  policy = data.aws_iam_policy_document.aggregator.json
}
