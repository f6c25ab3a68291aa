terraform {
  required_version = ">= 1.5.0"

  required_providers {
    docker = {
      # Built from source into a local mirror (scripts/infra/providers.sh),
      # under this project's own host name.
      source  = "faasflow.local/kreuzwerker/docker"
      version = ">= 3.0"
    }
  }
}

provider "docker" {
  host = var.docker_host
}
