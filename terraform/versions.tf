# Terraform and provider versions. The tests never run terraform: they parse these files
# (tests/terraform/check.cjs). `terraform init` fetches the AWS provider where you deploy.
terraform {
  # Nothing here needs more than Terraform 1.0 (the 1.x compatibility promise).
  required_version = ">= 1.0"

  required_providers {
    # 5.x: deletion_protection_enabled on tables, sqs_managed_sse_enabled on queues, and
    # destination_config / function_response_types on stream event source mappings.
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.0"
    }
  }
}

# Region and credentials come from the usual AWS environment (AWS_REGION, AWS_PROFILE, ...).
provider "aws" {
  default_tags {
    tags = local.tags
  }
}
