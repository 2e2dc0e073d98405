{{/* Names ------------------------------------------------------------------------------------------ */}}
{{- define "genai-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "genai-operator.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "genai-operator.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "genai-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "genai-operator.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* Labels: the app.kubernetes.io/* set and helm.sh/chart on every object. The operator's own objects
are managed-by Helm; only the children of ModelDeployments carry managed-by: genai-operator. */}}
{{- define "genai-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "genai-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: operator
{{- end -}}

{{- define "genai-operator.labels" -}}
helm.sh/chart: {{ include "genai-operator.chart" . }}
{{ include "genai-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: genai-operator
{{- end -}}

{{- define "genai-operator.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{/* RBAC rules. Kept in sync with operator/genai_operator/kube/resources.py (tests/test_rbac.py checks
every request the operator makes against these rules, and that no rule uses a wildcard or Secrets). */}}

{{/* What the operator needs inside each namespace it serves. */}}
{{- define "genai-operator.namespacedRules" -}}
# ModelDeployments: read (watched and indexed); status written through the status subresource only.
- apiGroups: ["genaiops.dev"]
  resources: ["modeldeployments"]
  verbs: ["get", "list", "watch"]
- apiGroups: ["genaiops.dev"]
  resources: ["modeldeployments/status"]
  verbs: ["get", "patch", "update"]
# Children carry an owner reference with blockOwnerDeletion, which needs update on the owner's finalizers.
- apiGroups: ["genaiops.dev"]
  resources: ["modeldeployments/finalizers"]
  verbs: ["update"]
# The children the operator creates, restores (replace) and removes when no longer desired.
# StatefulSets for pools with a NodeLocal cache; claims for Shared caches (the operator never reads Secrets:
# the model loader gets credentials by reference).
- apiGroups: ["apps"]
  resources: ["deployments", "statefulsets"]
  verbs: ["get", "list", "watch", "create", "update", "patch", "delete"]
- apiGroups: [""]
  resources: ["services", "persistentvolumeclaims"]
  verbs: ["get", "list", "watch", "create", "update", "patch", "delete"]
- apiGroups: ["policy"]
  resources: ["poddisruptionbudgets"]
  verbs: ["get", "list", "watch", "create", "update", "patch", "delete"]
- apiGroups: ["autoscaling"]
  resources: ["horizontalpodautoscalers"]
  verbs: ["get", "list", "watch", "create", "update", "patch", "delete"]
- apiGroups: ["networking.k8s.io"]
  resources: ["networkpolicies"]
  verbs: ["get", "list", "watch", "create", "update", "patch", "delete"]
- apiGroups: ["monitoring.coreos.com"]
  resources: ["servicemonitors", "podmonitors"]
  verbs: ["get", "list", "watch", "create", "update", "patch", "delete"]
# spec.routing: the InferencePool, its HTTPRoute, and the endpoint picker's identity and read-only grants.
# The API server lets the operator bind only what it holds itself (RBAC escalation check), so the picker
# can never get more than the read rules below.
- apiGroups: ["inference.networking.k8s.io"]
  resources: ["inferencepools"]
  verbs: ["get", "list", "watch", "create", "update", "patch", "delete"]
- apiGroups: ["gateway.networking.k8s.io"]
  resources: ["httproutes"]
  verbs: ["get", "list", "watch", "create", "update", "patch", "delete"]
# Replicas larger than one node: one LeaderWorkerSet per pool (the LWS controller runs their pods).
- apiGroups: ["leaderworkerset.x-k8s.io"]
  resources: ["leaderworkersets"]
  verbs: ["get", "list", "watch", "create", "update", "patch", "delete"]
# MIG slices under Dynamic Resource Allocation: one ResourceClaimTemplate per pool (the scheduler allocates).
- apiGroups: ["resource.k8s.io"]
  resources: ["resourceclaimtemplates"]
  verbs: ["get", "list", "watch", "create", "update", "patch", "delete"]
- apiGroups: [""]
  resources: ["serviceaccounts"]
  verbs: ["get", "list", "watch", "create", "update", "patch", "delete"]
- apiGroups: ["rbac.authorization.k8s.io"]
  resources: ["roles", "rolebindings"]
  verbs: ["get", "list", "watch", "create", "update", "patch", "delete"]
# Held only to grant it to the endpoint picker, which watches these objects.
- apiGroups: ["inference.networking.x-k8s.io"]
  resources: ["inferenceobjectives", "inferencemodelrewrites"]
  verbs: ["get", "list", "watch"]
{{- if .Values.keda.enabled }}
- apiGroups: ["keda.sh"]
  resources: ["scaledobjects"]
  verbs: ["get", "list", "watch", "create", "update", "patch", "delete"]
{{- end }}
# GPU pods (any owner) count against pool capacity: read-only.
- apiGroups: [""]
  resources: ["pods"]
  verbs: ["get", "list", "watch"]
# Warm standby (spec.scaling.warmStandby): POST /sleep and /wake_up to vLLM through the pod proxy; create is
# the verb of a POST there, and the only one granted (no GET, no other pod subresource).
- apiGroups: [""]
  resources: ["pods/proxy"]
  verbs: ["create"]
# Kubernetes Events about ModelDeployments (Kopf posts them through the core API).
- apiGroups: [""]
  resources: ["events"]
  verbs: ["create", "patch"]
{{- end -}}

{{/* Cluster-scoped inputs, read-only: node inventory, PlacementPools, CRDs (Kopf notices new resources);
the one cluster-scoped write is PlacementPool status (the pool's nodes and GPUs). */}}
{{- define "genai-operator.clusterRules" -}}
- apiGroups: [""]
  resources: ["nodes"]
  verbs: ["get", "list", "watch"]
- apiGroups: ["genaiops.dev"]
  resources: ["placementpools"]
  verbs: ["get", "list", "watch"]
- apiGroups: ["genaiops.dev"]
  resources: ["placementpools/status"]
  verbs: ["get", "patch", "update"]
- apiGroups: ["apiextensions.k8s.io"]
  resources: ["customresourcedefinitions"]
  verbs: ["get", "list", "watch"]
{{- if not .Values.watch.allNamespaces }}
# Serving a list of namespaces, Kopf watches them come and go.
- apiGroups: [""]
  resources: ["namespaces"]
  verbs: ["get", "list", "watch"]
{{- end }}
{{- end -}}
