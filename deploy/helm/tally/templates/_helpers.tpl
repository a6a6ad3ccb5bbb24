{{/*
The facts of each service that are the code's, not the operator's: its kind, its entry point and the
port that serves /healthz, /readyz and /metrics (README's services table, scripts/services.sh).
*/}}
{{- define "tally.components" -}}
ingest-api: { kind: api, port: 8080, entry: services/ingest-api/dist/main.js }
query-api: { kind: api, port: 8090, entry: services/query-api/dist/main.js }
event-logger: { kind: consumer, port: 9101, entry: services/event-logger/dist/main.js }
counter: { kind: consumer, port: 9102, entry: services/counter/dist/main.js }
history: { kind: consumer, port: 9103, entry: services/history/dist/main.js }
flusher: { kind: scheduler, port: 9104, entry: services/flusher/dist/main.js }
es-sync: { kind: scheduler, port: 9105, entry: services/es-sync/dist/main.js }
snapshot-builder: { kind: scheduler, port: 9106, entry: services/snapshot-builder/dist/main.js }
retention: { kind: scheduler, port: 9107, entry: services/retention/dist/main.js }
{{- end }}

{{/* Settings that hold keys, tokens or passwords: only ever from the Secret. */}}
{{- define "tally.secretNames" -}}
[MYSQL_URL, REDIS_URL, MONGO_URL, ES_URL, BROWSER_KEYS, SERVER_KEYS, ADMIN_TOKENS, USER_TOKEN_SECRETS]
{{- end }}

{{- define "tally.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "tally.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "tally.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/* Labels of every object; call with (dict "root" $ "component" "counter"). */}}
{{- define "tally.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version | replace "+" "_" }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: tally
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
{{ include "tally.selectorLabels" . }}
{{- end }}

{{- define "tally.selectorLabels" -}}
app.kubernetes.io/name: {{ include "tally.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "tally.secretName" -}}
{{- default (printf "%s-secrets" (include "tally.fullname" .)) .Values.secrets.existingSecret }}
{{- end }}

{{- define "tally.catalogConfigMap" -}}
{{- default (printf "%s-catalog" (include "tally.fullname" .)) .Values.catalogMappingExistingConfigMap }}
{{- end }}

{{- define "tally.hasCatalog" -}}
{{- if or .Values.catalogMapping .Values.catalogMappingExistingConfigMap }}true{{ end }}
{{- end }}

{{/* The consumer group of each consumer, as query-api's pipeline-health panel lists them. */}}
{{- define "tally.consumerGroups" -}}
{{- $groups := list }}
{{- range $name := list "event-logger" "counter" "history" }}
{{- $groups = append $groups (index $.Values.services $name).groupId }}
{{- end }}
{{- join "," $groups }}
{{- end }}

{{/* env entries read from the Secret; call with (dict "root" $ "names" (list ...) "optional" bool). */}}
{{- define "tally.secretEnv" -}}
{{- range .names }}
- name: {{ . }}
  valueFrom:
    secretKeyRef:
      name: {{ include "tally.secretName" $.root }}
      key: {{ . }}
      {{- if $.optional }}
      optional: true
      {{- end }}
{{- end }}
{{- end }}

{{/* What every Tally container shares: the ConfigMap, the connection URLs, the catalog mapping. */}}
{{- define "tally.commonEnv" -}}
{{ include "tally.secretEnv" (dict "root" . "names" (list "MYSQL_URL" "REDIS_URL" "MONGO_URL" "ES_URL")) }}
{{- if include "tally.hasCatalog" . }}
- name: CATALOG_MAPPING
  value: /etc/tally/catalog/catalog-mapping.json
{{- end }}
{{- end }}

{{- define "tally.catalogVolumeMount" -}}
- name: tmp
  mountPath: /tmp
{{- if include "tally.hasCatalog" . }}
- name: catalog-mapping
  mountPath: /etc/tally/catalog
  readOnly: true
{{- end }}
{{- end }}

{{- define "tally.catalogVolume" -}}
# Node writes nothing else; /tmp stays writable with a read-only root file system.
- name: tmp
  emptyDir: {}
{{- if include "tally.hasCatalog" . }}
- name: catalog-mapping
  configMap:
    name: {{ include "tally.catalogConfigMap" . }}
{{- end }}
{{- end }}

{{/* The chart's checks of values that would deploy something broken. */}}
{{- define "tally.validate" -}}
{{- $secretNames := include "tally.secretNames" . | fromYamlArray }}
{{- range $name, $svc := .Values.services }}
{{- if not (hasKey (include "tally.components" $ | fromYaml) $name) }}
{{- fail (printf "services.%s: not a Tally service (known: ingest-api, query-api, event-logger, counter, history, flusher, es-sync, snapshot-builder, retention)" $name) }}
{{- end }}
{{- range $key, $_ := ($svc.env | default dict) }}
{{- if has $key $secretNames }}
{{- fail (printf "services.%s.env.%s: keys, tokens and connection URLs go into the Secret (secrets.* / servers.*, or secrets.existingSecret), never into a literal env value" $name $key) }}
{{- end }}
{{- end }}
{{- end }}
{{- /* Types and bounds of single values (minReplicaCount ≥ 1, …) are values.schema.json's. */}}
{{- $partitions := int .Values.partitions }}
{{- if .Values.keda.enabled }}
{{- range $name, $k := .Values.keda.consumers }}
{{- $max := int (default $partitions $k.maxReplicaCount) }}
{{- if gt $max $partitions }}
{{- fail (printf "keda.consumers.%s.maxReplicaCount is %d, more than the topics' %d partitions: a consumer group cannot use more members than a topic has partitions (add partitions first, then raise `partitions`; docs/operations.md)" $name $max $partitions) }}
{{- end }}
{{- if gt (int $k.minReplicaCount) $max }}
{{- fail (printf "keda.consumers.%s.minReplicaCount (%d) exceeds maxReplicaCount (%d)" $name (int $k.minReplicaCount) $max) }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
