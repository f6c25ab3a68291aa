# Inputs of the docker stack. `faasflow cluster up --provider docker` sets node_image, apt_repo and
# docker_host from scripts/infra/node-image.sh and scripts/services/docker.sh.

variable "docker_host" {
  description = "Docker daemon the nodes run on, e.g. unix:///root/.faasflow/services/docker/docker.sock."
  type        = string
}

variable "node_image" {
  description = "Image of every node: a locally made Debian root filesystem with supervisord as init (scripts/infra/node-image.sh)."
  type        = string
}

variable "apt_repo" {
  description = "Directory on this machine with the local apt repository the roles install from; mounted read-only into every node."
  type        = string
}

variable "cluster_name" {
  description = "Name prefix of the containers and the network."
  type        = string
  default     = "faasflow"
}

variable "workers" {
  description = "Number of worker containers."
  type        = number
  default     = 3

  validation {
    condition     = var.workers >= 1 && var.workers <= 50 && var.workers == floor(var.workers)
    error_message = "workers must be a whole number from 1 to 50."
  }
}

variable "subnet" {
  description = "Address range of the cluster's internal network (no route to or from the outside)."
  type        = string
  default     = "10.213.7.0/24"
}

variable "node_memory_mb" {
  description = "Memory limit of each node container in MiB (0 = no limit)."
  type        = number
  default     = 0
}
