module fingerprint-infra/scripts/k8s-openapi/enums

go 1.22
