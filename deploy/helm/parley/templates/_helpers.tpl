{{/* Names, labels and the pieces every service's objects share. */}}

{{- define "parley.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Resource-name prefix: the release name when it already contains the chart name. */}}
{{- define "parley.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "parley.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels of every object. */}}
{{- define "parley.labels" -}}
helm.sh/chart: {{ include "parley.chart" . }}
app.kubernetes.io/name: {{ include "parley.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: parley
{{- end -}}

{{/* Selector of one service's pods. Call with (dict "root" $ "component" "connector"). */}}
{{- define "parley.selectorLabels" -}}
app.kubernetes.io/name: {{ include "parley.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "parley.componentLabels" -}}
{{ include "parley.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "parley.componentName" -}}
{{- printf "%s-%s" (include "parley.fullname" .root) .component -}}
{{- end -}}

{{- define "parley.secretName" -}}
{{- default (printf "%s-secrets" (include "parley.fullname" .)) .Values.secrets.name -}}
{{- end -}}

{{- /* The Secret one service reads its credentials from: its own <service>.secretName, else the shared one. */ -}}
{{- define "parley.serviceSecretName" -}}
{{- $own := "" -}}
{{- if .component -}}{{- $own = (index .root.Values .component).secretName | default "" -}}{{- end -}}
{{- $own | default (include "parley.secretName" .root) -}}
{{- end -}}

{{- define "parley.image" -}}
{{- $svc := index .root.Values .component -}}
{{- $tag := default (default .root.Chart.AppVersion .root.Values.image.tag) $svc.image.tag -}}
{{- if .root.Values.image.registry -}}
{{- printf "%s/%s:%s" (trimSuffix "/" .root.Values.image.registry) $svc.image.repository $tag -}}
{{- else -}}
{{- printf "%s:%s" $svc.image.repository $tag -}}
{{- end -}}
{{- end -}}

{{/* gRPC address of a service for grpc-js: dns:/// over the headless Service, balanced round-robin over the ready pods. */}}
{{- define "parley.grpcAddr" -}}
{{- $svc := index .root.Values .component -}}
{{- printf "dns:///%s-headless.%s.svc.%s:%v" (include "parley.componentName" .) .root.Release.Namespace .root.Values.clusterDomain $svc.ports.grpc -}}
{{- end -}}

{{/* Seconds Kubernetes waits after the preStop hook starts before SIGKILL: preStop sleep + the service's own shutdown limit + 5 s. */}}
{{- define "parley.gracePeriod" -}}
{{- $svc := index .root.Values .component -}}
{{- $timeout := 0 -}}
{{- if eq .component "connector" -}}{{- $timeout = $svc.drain.shutdownTimeoutMs -}}{{- else -}}{{- $timeout = $svc.shutdownTimeoutMs -}}{{- end -}}
{{- add $svc.preStopSleepSeconds (div (add $timeout 999) 1000) 5 -}}
{{- end -}}

{{/* An env entry read from the credentials Secret (the service's own when .component names one with secretName). */}}
{{- define "parley.secretEnv" -}}
- name: {{ .key }}
  valueFrom:
    secretKeyRef:
      name: {{ include "parley.serviceSecretName" . }}
      key: {{ .key }}
{{- end -}}

{{- /* A key of the Secret that may be absent (credentials a deployment without them does not set). */ -}}
{{- define "parley.optionalSecretEnv" -}}
- name: {{ .key }}
  valueFrom:
    secretKeyRef:
      name: {{ include "parley.serviceSecretName" . }}
      key: {{ .key }}
      optional: true
{{- end -}}

{{- /* Redis: the URL, and the ACL user and password kept out of it (never logged). */ -}}
{{- /* Call with (dict "root" $ "component" "<service>"); component "" for the topics Job (the shared Secret). */ -}}
{{- define "parley.redisEnv" -}}
{{ include "parley.secretEnv" (dict "root" .root "component" .component "key" "REDIS_URL") }}
{{ include "parley.optionalSecretEnv" (dict "root" .root "component" .component "key" "REDIS_USERNAME") }}
{{ include "parley.optionalSecretEnv" (dict "root" .root "component" .component "key" "REDIS_PASSWORD") }}
{{- end -}}

{{- define "parley.kafkaSaslEnv" -}}
{{- if .root.Values.kafka.sasl.mechanism }}
{{ include "parley.secretEnv" (dict "root" .root "component" .component "key" "KAFKA_SASL_USERNAME") }}
{{ include "parley.secretEnv" (dict "root" .root "component" .component "key" "KAFKA_SASL_PASSWORD") }}
{{- end }}
{{- end -}}

{{- /*
The private CAs a service trusts for its infrastructure clients (kafka.caSecret, redis.caSecret,
mongodb.caSecret): the names of those set and used by the component, space-separated.
*/ -}}
{{- define "parley.caClients" -}}
{{- $v := .root.Values -}}
{{- $c := .component -}}
{{- $out := list -}}
{{- if and $v.kafka.caSecret.name (has $c (list "router" "storage" "push" "topics")) -}}{{- $out = append $out "kafka" -}}{{- end -}}
{{- $redisUsers := list "connector" "storage" "push" -}}
{{- if eq $v.router.rateLimits.store "redis" -}}{{- $redisUsers = append $redisUsers "router" -}}{{- end -}}
{{- if and $v.redis.caSecret.name (has $c $redisUsers) -}}{{- $out = append $out "redis" -}}{{- end -}}
{{- if and $v.mongodb.caSecret.name (eq $c "storage") -}}{{- $out = append $out "mongodb" -}}{{- end -}}
{{- join " " $out -}}
{{- end -}}

{{- define "parley.caEnv" -}}
{{- $vars := dict "kafka" "KAFKA_TLS_CA_FILE" "redis" "REDIS_TLS_CA_FILE" "mongodb" "MONGO_TLS_CA_FILE" -}}
{{- range $client := splitList " " (include "parley.caClients" .) }}
{{- if $client }}
- name: {{ index $vars $client }}
  value: /etc/parley/ca/{{ $client }}/ca.crt
{{- end }}
{{- end }}
{{- end -}}

{{- define "parley.caVolumeMounts" -}}
{{- range $client := splitList " " (include "parley.caClients" .) }}
{{- if $client }}
- name: ca-{{ $client }}
  mountPath: /etc/parley/ca/{{ $client }}
  readOnly: true
{{- end }}
{{- end }}
{{- end -}}

{{- define "parley.caVolumes" -}}
{{- $root := .root -}}
{{- range $client := splitList " " (include "parley.caClients" .) }}
{{- if $client }}
{{- $ca := (index $root.Values $client).caSecret }}
# The CA that issued the {{ $client }} servers' certificates ({{ $client }}.caSecret).
- name: ca-{{ $client }}
  secret:
    secretName: {{ $ca.name }}
    items:
      - key: {{ $ca.key | default "ca.crt" }}
        path: ca.crt
{{- end }}
{{- end }}
{{- end -}}

{{/* Refuses values that render fine but cannot work; each message names the value to change. */}}
{{- define "parley.validate" -}}
{{- $partitions := int .Values.kafka.partitions -}}
{{- range $name := list "storage" "push" -}}
{{- $svc := index $.Values $name -}}
{{- $as := $svc.autoscaling -}}
{{- if and $as.keda.enabled $as.externalMetric.enabled -}}
{{- fail (printf "%s.autoscaling: keda.enabled and externalMetric.enabled are mutually exclusive (both would drive the replica count); enable one" $name) -}}
{{- end -}}
{{- if gt (int $as.maxReplicas) $partitions -}}
{{- fail (printf "%s.autoscaling.maxReplicas (%d) is above kafka.partitions (%d): consumers beyond the partition count sit idle; lower maxReplicas or add partitions" $name (int $as.maxReplicas) $partitions) -}}
{{- end -}}
{{- if gt (int $svc.replicaCount) $partitions -}}
{{- fail (printf "%s.replicaCount (%d) is above kafka.partitions (%d): consumers beyond the partition count sit idle" $name (int $svc.replicaCount) $partitions) -}}
{{- end -}}
{{- if gt (int $as.minReplicas) (int $as.maxReplicas) -}}
{{- fail (printf "%s.autoscaling.minReplicas (%d) is above maxReplicas (%d)" $name (int $as.minReplicas) (int $as.maxReplicas)) -}}
{{- end -}}
{{- end -}}
{{- range $name := list "connector" "router" -}}
{{- $as := (index $.Values $name).autoscaling -}}
{{- if and $as.enabled (gt (int $as.minReplicas) (int $as.maxReplicas)) -}}
{{- fail (printf "%s.autoscaling.minReplicas (%d) is above maxReplicas (%d)" $name (int $as.minReplicas) (int $as.maxReplicas)) -}}
{{- end -}}
{{- end -}}
{{- /* The services refuse a CA file that TLS would not use (packages/core/src/config.ts). */ -}}
{{- if and .Values.kafka.caSecret.name (not .Values.kafka.ssl) -}}
{{- fail "kafka.caSecret needs kafka.ssl: true (a CA without TLS would be ignored and the client would talk plaintext)" -}}
{{- end -}}
{{- if and .Values.redis.caSecret.name .Values.secrets.create (not (hasPrefix "rediss://" .Values.secrets.redisUrl)) -}}
{{- fail "redis.caSecret needs a rediss:// secrets.redisUrl (TLS)" -}}
{{- end -}}
{{- /* The connector refuses to start unless DRAIN_WINDOW_MS + 5000 <= SHUTDOWN_TIMEOUT_MS (services/connector/src/config.ts). */ -}}
{{- if lt (int .Values.connector.drain.shutdownTimeoutMs) (add (int .Values.connector.drain.windowMs) 5000) -}}
{{- fail (printf "connector.drain.shutdownTimeoutMs (%d) must be at least connector.drain.windowMs (%d) + 5000: after the window, in-flight work still needs time" (int .Values.connector.drain.shutdownTimeoutMs) (int .Values.connector.drain.windowMs)) -}}
{{- end -}}
{{- end -}}

{{/* true when storage/push replicas are driven by an autoscaler. */}}
{{- define "parley.lagAutoscaled" -}}
{{- $as := (index .root.Values .component).autoscaling -}}
{{- if hasKey $as "keda" -}}
{{- if or $as.keda.enabled $as.externalMetric.enabled }}true{{ end -}}
{{- end -}}
{{- end -}}

{{/* A value as an env string: whole numbers without the exponent YAML floats would get (604800000, not 6.048e+08). */}}
{{- define "parley.envValue" -}}
{{- if and (kindIs "float64" .) (eq (float64 (int64 .)) .) -}}
{{- int64 . | quote -}}
{{- else -}}
{{- toString . | quote -}}
{{- end -}}
{{- end -}}

{{/* The Secret of the connector's client-facing certificate (wsTls.mode connector). */}}
{{- define "parley.wsTlsSecret" -}}
{{- .Values.wsTls.secretName | default (printf "%s-connector-ws-tls" (include "parley.fullname" .)) -}}
{{- end -}}

{{/* Every service's gRPC identity: the mounted certificate, or plaintext in development. */}}
{{- define "parley.grpcTlsEnv" -}}
{{- if eq .Values.grpcTls.mode "insecureDevelopment" -}}
- name: GRPC_INSECURE
  value: "true"
{{- else -}}
- name: GRPC_TLS_CERT_FILE
  value: /etc/parley/grpc-tls/tls.crt
- name: GRPC_TLS_KEY_FILE
  value: /etc/parley/grpc-tls/tls.key
- name: GRPC_TLS_CA_FILE
  value: /etc/parley/grpc-tls/ca.crt
{{- end -}}
{{- end -}}
