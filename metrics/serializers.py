"""The JSON shapes of the KPI data API."""

from __future__ import annotations

from django.conf import settings
from rest_framework import serializers


class SampleRowSerializer(serializers.Serializer):
    """One value, in the canonical long layout. Values are checked by the loader, not here, so
    that a bad row comes back with the same reason a file upload would give; this serializer
    only documents the shape (and the OpenAPI schema)."""

    employee_id = serializers.CharField(help_text="The employee ID as the exports carry it.")
    date = serializers.CharField(help_text="ISO date, e.g. 2025-03-04.")
    kpi = serializers.CharField(help_text="A KPI code (qa_score, aht, csat…) or name.")
    value = serializers.JSONField(
        help_text="A number, or text such as '85 %', '0.85', '5:30' (m:ss) or '1:05:30'."
    )
    weight = serializers.FloatField(
        required=False, help_text="Calls, chats or surveys behind the value (default 1)."
    )


class BatchSerializer(serializers.Serializer):
    source = serializers.CharField(
        max_length=64, help_text="The system the data comes from; created on first use."
    )
    label = serializers.CharField(
        max_length=255, required=False, default="", help_text="A name for the batch."
    )
    rows = serializers.ListField(child=serializers.DictField(), allow_empty=False)

    def validate_rows(self, rows: list[dict]) -> list[dict]:
        limit = settings.METRICS_API_MAX_ROWS
        if len(rows) > limit:
            raise serializers.ValidationError(
                f"At most {limit:,} rows per request; send the rest in further batches."
            )
        return rows


class RowErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField(allow_null=True, help_text="1-based position in `rows`.")
    field = serializers.CharField(allow_blank=True)
    reason = serializers.CharField()


class LoadSerializer(serializers.Serializer):
    load = serializers.IntegerField()
    status = serializers.CharField()
    rows_total = serializers.IntegerField()
    rows_changed = serializers.IntegerField()
    errors = RowErrorSerializer(many=True)
    error_count = serializers.IntegerField()
