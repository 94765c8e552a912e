{{/*
The objects every service has: ServiceAccount, Deployment, headless Service, PodDisruptionBudget.
Call with (dict "root" $ "component" "<service>"); the service's own environment comes from
the template "parley.env.<service>".
*/}}

{{- define "parley.workload" -}}
{{- $root := .root -}}
{{- $c := .component -}}
{{- $svc := index $root.Values $c -}}
{{- $ctx := dict "root" $root "component" $c -}}
{{- $name := include "parley.componentName" $ctx -}}
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{ $name }}
  namespace: {{ $root.Release.Namespace }}
  labels:
    {{- include "parley.componentLabels" $ctx | nindent 4 }}
automountServiceAccountToken: false
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ $name }}
  namespace: {{ $root.Release.Namespace }}
  labels:
    {{- include "parley.componentLabels" $ctx | nindent 4 }}
spec:
  {{- $autoscaled := or (and (hasKey $svc.autoscaling "enabled") $svc.autoscaling.enabled) (include "parley.lagAutoscaled" $ctx) }}
  {{- if not $autoscaled }}
  replicas: {{ $svc.replicaCount }}
  {{- end }}
  revisionHistoryLimit: 5
  {{- with $svc.minReadySeconds }}
  minReadySeconds: {{ . }}
  {{- end }}
  strategy:
    type: RollingUpdate
    rollingUpdate:
      # A new pod is ready before an old one drains: capacity never drops during a rollout.
      maxSurge: 1
      maxUnavailable: 0
  selector:
    matchLabels:
      {{- include "parley.selectorLabels" $ctx | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "parley.componentLabels" $ctx | nindent 8 }}
      annotations:
        checksum/config: {{ include (print $root.Template.BasePath "/configmap.yaml") $root | sha256sum }}
        {{- if $root.Values.secrets.create }}
        checksum/secret: {{ include (print $root.Template.BasePath "/secret.yaml") $root | sha256sum }}
        {{- end }}
        {{- with $svc.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      serviceAccountName: {{ $name }}
      automountServiceAccountToken: false
      {{- with $root.Values.imagePullSecrets }}
      imagePullSecrets:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      terminationGracePeriodSeconds: {{ include "parley.gracePeriod" $ctx }}
      securityContext:
        {{- toYaml $root.Values.podSecurityContext | nindent 8 }}
      {{- if $root.Values.topologySpread.enabled }}
      topologySpreadConstraints:
        {{- range $key := list "topology.kubernetes.io/zone" "kubernetes.io/hostname" }}
        - maxSkew: {{ $root.Values.topologySpread.maxSkew }}
          topologyKey: {{ $key }}
          whenUnsatisfiable: {{ $root.Values.topologySpread.whenUnsatisfiable }}
          labelSelector:
            matchLabels:
              {{- include "parley.selectorLabels" $ctx | nindent 14 }}
        {{- end }}
      {{- end }}
      {{- with $svc.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $svc.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $svc.affinity }}
      affinity:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      containers:
        - name: {{ $c }}
          image: {{ include "parley.image" $ctx }}
          imagePullPolicy: {{ $root.Values.image.pullPolicy }}
          ports:
            {{- range $port, $number := $svc.ports }}
            - name: {{ $port }}
              containerPort: {{ $number }}
              protocol: TCP
            {{- end }}
          envFrom:
            - configMapRef:
                name: {{ include "parley.fullname" $root }}-common
          env:
            - name: INSTANCE_ID
              valueFrom:
                fieldRef:
                  fieldPath: metadata.name
            - name: POD_IP
              valueFrom:
                fieldRef:
                  fieldPath: status.podIP
            - name: HTTP_PORT
              value: {{ include "parley.envValue" $svc.ports.http }}
            - name: GRPC_PORT
              value: {{ include "parley.envValue" $svc.ports.grpc }}
            {{- if $svc.ports.api }}
            - name: API_HTTP_PORT
              value: {{ include "parley.envValue" $svc.ports.api }}
            {{- end }}
            {{- include (printf "parley.env.%s" $c) $ctx | nindent 12 }}
            {{- include "parley.grpcTlsEnv" $root | nindent 12 }}
            {{- with include "parley.caEnv" $ctx | trim }}
            {{- . | nindent 12 }}
            {{- end }}
            {{- range $k, $v := $svc.env }}
            - name: {{ $k }}
              value: {{ include "parley.envValue" $v }}
            {{- end }}
          resources:
            {{- toYaml $svc.resources | nindent 12 }}
          securityContext:
            {{- toYaml $root.Values.containerSecurityContext | nindent 12 }}
          startupProbe:
            httpGet:
              path: /healthz
              port: http
            periodSeconds: 2
            failureThreshold: {{ div $root.Values.probes.startupTimeoutSeconds 2 }}
          livenessProbe:
            httpGet:
              path: /healthz
              port: http
            periodSeconds: {{ $root.Values.probes.livenessPeriodSeconds }}
            timeoutSeconds: 3
            failureThreshold: 3
          readinessProbe:
            httpGet:
              path: /readyz
              port: http
            periodSeconds: {{ $root.Values.probes.readinessPeriodSeconds }}
            timeoutSeconds: 2
            failureThreshold: 2
            successThreshold: 1
          lifecycle:
            preStop:
              # Endpoints and load balancers forget a terminating pod within a few seconds;
              # SIGTERM (the service's drain) comes after this sleep.
              exec:
                command: ["/bin/sleep", "{{ $svc.preStopSleepSeconds }}"]
          volumeMounts:
            - name: tmp
              mountPath: /tmp
            {{- if ne $root.Values.grpcTls.mode "insecureDevelopment" }}
            - name: grpc-tls
              mountPath: /etc/parley/grpc-tls
              readOnly: true
            {{- end }}
            {{- if and (eq $c "connector") (eq $root.Values.wsTls.mode "connector") }}
            - name: ws-tls
              mountPath: /etc/parley/ws-tls
              readOnly: true
            {{- end }}
            {{- with include "parley.caVolumeMounts" $ctx | trim }}
            {{- . | nindent 12 }}
            {{- end }}
      volumes:
        # The root filesystem is read-only; Node and OpenTelemetry may write temporary files.
        - name: tmp
          emptyDir:
            sizeLimit: 64Mi
        {{- if ne $root.Values.grpcTls.mode "insecureDevelopment" }}
        # This service's gRPC certificate (renewed in place: the files are read again every minute).
        - name: grpc-tls
          secret:
            secretName: {{ $name }}-grpc-tls
        {{- end }}
        {{- if and (eq $c "connector") (eq $root.Values.wsTls.mode "connector") }}
        # The client-facing certificate (wss://), renewed in place: read again every wsTls.refreshMs.
        - name: ws-tls
          secret:
            secretName: {{ include "parley.wsTlsSecret" $root }}
        {{- end }}
        {{- with include "parley.caVolumes" $ctx | trim }}
        {{- . | nindent 8 }}
        {{- end }}
---
# Headless: one DNS record per ready pod, for grpc-js round-robin (dns:///) and for scraping.
apiVersion: v1
kind: Service
metadata:
  name: {{ $name }}-headless
  namespace: {{ $root.Release.Namespace }}
  labels:
    {{- include "parley.componentLabels" $ctx | nindent 4 }}
    parley.dev/metrics: "true"
spec:
  clusterIP: None
  selector:
    {{- include "parley.selectorLabels" $ctx | nindent 4 }}
  ports:
    - name: grpc
      port: {{ $svc.ports.grpc }}
      targetPort: grpc
      protocol: TCP
      appProtocol: grpc
    {{- if $svc.ports.api }}
    - name: api
      port: {{ $svc.ports.api }}
      targetPort: api
      protocol: TCP
    {{- end }}
    - name: http
      port: {{ $svc.ports.http }}
      targetPort: http
      protocol: TCP
{{- if $svc.pdb.enabled }}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ $name }}
  namespace: {{ $root.Release.Namespace }}
  labels:
    {{- include "parley.componentLabels" $ctx | nindent 4 }}
spec:
  maxUnavailable: {{ $svc.pdb.maxUnavailable }}
  selector:
    matchLabels:
      {{- include "parley.selectorLabels" $ctx | nindent 6 }}
{{- end }}
{{- end -}}

{{- define "parley.env.connector" -}}
{{- $ctx := . -}}
{{- with .root -}}
{{- $v := .Values.connector -}}
- name: WS_PORT
  value: {{ include "parley.envValue" $v.ports.ws }}
{{- if eq .Values.wsTls.mode "connector" }}
- name: WS_TLS_CERT_FILE
  value: /etc/parley/ws-tls/tls.crt
- name: WS_TLS_KEY_FILE
  value: /etc/parley/ws-tls/tls.key
- name: WS_TLS_REFRESH_MS
  value: {{ include "parley.envValue" .Values.wsTls.refreshMs }}
{{- else }}
# TLS ends at the ingress (wsTls.mode ingress); the NetworkPolicy admits only wsTls.ingressPeers.
- name: WS_INSECURE
  value: "true"
{{- end }}
# Push calls Connector.Deliver at the pod IP.
- name: ADVERTISE_ADDR
  value: "$(POD_IP):{{ $v.ports.grpc }}"
- name: ROUTER_ADDR
  value: {{ include "parley.grpcAddr" (dict "root" . "component" "router") | quote }}
- name: STORAGE_ADDR
  value: {{ include "parley.grpcAddr" (dict "root" . "component" "storage") | quote }}
- name: ALLOWED_ORIGINS
  value: {{ $v.allowedOrigins | quote }}
{{- with $v.trustedProxies }}
- name: TRUSTED_PROXIES
  value: {{ . | quote }}
{{- end }}
{{- with $v.jwt.issuer }}
- name: JWT_ISSUER
  value: {{ . | quote }}
{{- end }}
{{- with $v.jwt.audience }}
- name: JWT_AUDIENCE
  value: {{ . | quote }}
{{- end }}
{{- with $v.jwt.jwksUrl }}
- name: JWT_JWKS_URL
  value: {{ . | quote }}
{{- end }}
{{- with $v.jwt.algorithms }}
- name: JWT_ALGORITHMS
  value: {{ . | quote }}
{{- end }}
{{- with $v.jwt.type }}
- name: JWT_TYPE
  value: {{ . | quote }}
{{- end }}
- name: DRAIN_WINDOW_MS
  value: {{ include "parley.envValue" $v.drain.windowMs }}
- name: SHUTDOWN_TIMEOUT_MS
  value: {{ include "parley.envValue" $v.drain.shutdownTimeoutMs }}
- name: CONNECTION_SEND_RATE_PER_SEC
  value: {{ include "parley.envValue" $v.connectionSendLimit.ratePerSec }}
- name: CONNECTION_SEND_BURST
  value: {{ include "parley.envValue" $v.connectionSendLimit.burst }}
{{ include "parley.redisEnv" $ctx }}
{{ include "parley.secretEnv" (dict "root" . "component" "connector" "key" "JWT_SECRETS") }}
{{- end }}
{{- end -}}

{{- define "parley.env.router" -}}
{{- $ctx := . -}}
{{- with .root -}}
- name: STORAGE_ADDR
  value: {{ include "parley.grpcAddr" (dict "root" . "component" "storage") | quote }}
- name: SHUTDOWN_TIMEOUT_MS
  value: {{ include "parley.envValue" .Values.router.shutdownTimeoutMs }}
- name: MEMBERSHIP_CACHE_CONVERSATIONS
  value: {{ include "parley.envValue" .Values.router.membershipCache.conversations }}
- name: MEMBERSHIP_CACHE_MAX_AGE_MS
  value: {{ include "parley.envValue" .Values.router.membershipCache.maxAgeMs }}
# Per-user limits shared by every router pod through Redis (docs/ARCHITECTURE.md, rate limits).
- name: RATE_LIMIT_STORE
  value: {{ .Values.router.rateLimits.store | quote }}
- name: RATE_LIMIT_FLUSH_MS
  value: {{ include "parley.envValue" .Values.router.rateLimits.flushMs }}
{{- if eq .Values.router.rateLimits.store "redis" }}
{{ include "parley.redisEnv" $ctx }}
{{- end }}
{{- include "parley.kafkaSaslEnv" $ctx }}
{{- end }}
{{- end -}}

{{- define "parley.env.storage" -}}
{{- $ctx := . -}}
{{- with .root -}}
{{ include "parley.optionalSecretEnv" (dict "root" . "component" "storage" "key" "BOOTSTRAP_ADMIN_KEY") }}
- name: CONSUMER_CONCURRENCY
  value: {{ include "parley.envValue" .Values.storage.consumerConcurrency }}
- name: SHUTDOWN_TIMEOUT_MS
  value: {{ include "parley.envValue" .Values.storage.shutdownTimeoutMs }}
- name: MAX_GROUP_MEMBERS
  value: {{ include "parley.envValue" .Values.storage.maxGroupMembers }}
- name: MAX_PAGE_SIZE
  value: {{ include "parley.envValue" .Values.storage.maxPageSize }}
- name: READ_CACHE_BYTES
  value: {{ include "parley.envValue" .Values.storage.readCacheBytes }}
{{ include "parley.secretEnv" (dict "root" . "component" "storage" "key" "MONGO_URL") }}
{{ include "parley.optionalSecretEnv" (dict "root" . "component" "storage" "key" "MONGO_USERNAME") }}
{{ include "parley.optionalSecretEnv" (dict "root" . "component" "storage" "key" "MONGO_PASSWORD") }}
{{ include "parley.redisEnv" $ctx }}
{{- include "parley.kafkaSaslEnv" $ctx }}
{{- end }}
{{- end -}}

{{- define "parley.env.push" -}}
{{- $ctx := . -}}
{{- with .root -}}
- name: CONSUMER_CONCURRENCY
  value: {{ include "parley.envValue" .Values.push.consumerConcurrency }}
- name: SHUTDOWN_TIMEOUT_MS
  value: {{ include "parley.envValue" .Values.push.shutdownTimeoutMs }}
# Member lists of conversations (ListMembers), kept true by parley.membership events.
- name: STORAGE_ADDR
  value: {{ include "parley.grpcAddr" (dict "root" . "component" "storage") | quote }}
- name: STORAGE_DEADLINE_MS
  value: {{ include "parley.envValue" .Values.push.storageDeadlineMs }}
- name: MEMBER_CACHE_SIZE
  value: {{ include "parley.envValue" .Values.push.memberCacheSize }}
{{ include "parley.redisEnv" $ctx }}
{{- include "parley.kafkaSaslEnv" $ctx }}
{{- end }}
{{- end -}}
