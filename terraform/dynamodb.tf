# The two tables, exactly as the library's dr_client_create_tables() builds them
# (src/ratings/ops_tables.c) and as docs/data-model.md fixes them for the JavaScript
# services. tests/terraform/check.cjs compares the two and fails on any difference in
# keys, key types, indexes, projections, billing mode or stream settings.
#
# Resource addresses are those of the original terraform, so an existing deployment's
# state maps onto these tables instead of replacing them.

# Individual ratings: PK = JOKE#<jokeId>, SK = RATING#<submittedAt>#<uuid>.
resource "aws_dynamodb_table" "joke_ratings" {
  name                        = local.ratings_table_name
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "PK"
  range_key                   = "SK"
  deletion_protection_enabled = var.deletion_protection

  attribute {
    name = "PK"
    type = "S"
  }

  attribute {
    name = "SK"
    type = "S"
  }

  attribute {
    name = "GSI1PK"
    type = "S"
  }

  attribute {
    name = "GSI1SK"
    type = "S"
  }

  attribute {
    name = "GSI2PK"
    type = "S"
  }

  attribute {
    name = "GSI2SK"
    type = "S"
  }

  # Recent ratings: GSI1PK = ALL_RATINGS, GSI1SK = submittedAt (the dashboard's newest 20).
  global_secondary_index {
    name            = "GSI1"
    hash_key        = "GSI1PK"
    range_key       = "GSI1SK"
    projection_type = "ALL"
  }

  # Ratings by author: GSI2PK = AUTHOR#<author>, GSI2SK = submittedAt.
  global_secondary_index {
    name            = "GSI2"
    hash_key        = "GSI2PK"
    range_key       = "GSI2SK"
    projection_type = "ALL"
  }

  # The stream aggregator needs both images: MODIFY moves a rating between star counts
  # (old and new stars), REMOVE un-counts it (old image only).
  stream_enabled   = true
  stream_view_type = "NEW_AND_OLD_IMAGES"

  point_in_time_recovery {
    enabled = true
  }

  # Old daily ratings may carry expiresAt (epoch seconds). A TTL deletion reaches the
  # stream as a REMOVE by the DynamoDB service, which the aggregator ignores: aggregates
  # are history.
  ttl {
    attribute_name = "expiresAt"
    enabled        = true
  }

  # Encrypted with the AWS managed key (aws/dynamodb) rather than the default AWS owned
  # key, so that key use is visible in CloudTrail. No key policy to manage.
  server_side_encryption {
    enabled = true
  }
}

# Pre-computed aggregates: per joke (STATS#<jokeId> / AGGREGATE), global (GLOBAL /
# AGGREGATE) and per author (GLOBAL / AUTHOR#<author>), plus the aggregator's markers.
resource "aws_dynamodb_table" "joke_stats" {
  name                        = local.stats_table_name
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "PK"
  range_key                   = "SK"
  deletion_protection_enabled = var.deletion_protection

  attribute {
    name = "PK"
    type = "S"
  }

  attribute {
    name = "SK"
    type = "S"
  }

  attribute {
    name = "GSI1PK"
    type = "S"
  }

  # The average as a number, as the JavaScript services sort on it.
  attribute {
    name = "GSI1SK"
    type = "N"
  }

  attribute {
    name = "GSI2PK"
    type = "S"
  }

  attribute {
    name = "GSI2SK"
    type = "S"
  }

  # Top performers as the JavaScript services query them: GSI1PK = TOP_PERFORMERS,
  # GSI1SK = average, descending.
  global_secondary_index {
    name            = "GSI1"
    hash_key        = "GSI1PK"
    range_key       = "GSI1SK"
    projection_type = "ALL"
  }

  # The library's top performers: a sparse index of jokes with at least 3 ratings in a
  # total order (average, then ratings, then id), so a Limit-8 query is the true top 8.
  global_secondary_index {
    name            = "GSI2"
    hash_key        = "GSI2PK"
    range_key       = "GSI2SK"
    projection_type = "ALL"
  }

  point_in_time_recovery {
    enabled = true
  }

  # Only the stream aggregator's exactly-once markers carry expiresAt (a week ahead,
  # far past the stream's 24-hour retention); aggregates never expire.
  ttl {
    attribute_name = "expiresAt"
    enabled        = true
  }

  server_side_encryption {
    enabled = true
  }
}
