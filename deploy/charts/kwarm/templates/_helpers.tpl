{{/* Labels on every object of the chart. Selectors use app.kubernetes.io/name alone, as the kustomize install does. */}}
{{- define "kwarm.labels" -}}
app.kubernetes.io/name: kwarm
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ .Chart.Name }}-{{ .Chart.Version }}
{{- end }}

{{/* Kwarm's own namespace (the Lease's): flags.namespace, or the release namespace. */}}
{{- define "kwarm.namespace" -}}
{{ .Values.flags.namespace | default .Release.Namespace }}
{{- end }}

{{- define "kwarm.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end }}

{{/*
The settings every entry of the MutatingWebhookConfiguration shares (DESIGN §4): one entry per workload kind Kwarm
holds, each with its own path and resource, so a change here reaches all of them alike.
*/}}
{{- define "kwarm.webhookSettings" -}}
admissionReviewVersions: ["v1"]
sideEffects: None
failurePolicy: {{ .Values.webhook.failurePolicy }}
timeoutSeconds: {{ .Values.webhook.timeoutSeconds }}
reinvocationPolicy: IfNeeded
matchPolicy: Equivalent
namespaceSelector:
  {{- if .Values.webhook.namespaceSelector }}
  {{- toYaml .Values.webhook.namespaceSelector | nindent 2 }}
  {{- else }}
  matchExpressions:
    - key: kubernetes.io/metadata.name
      operator: NotIn
      values: ["kube-system", {{ .Release.Namespace | quote }}]
  {{- end }}
{{- end }}
