"""The JSON shapes of the KPI data API."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext
from rest_framework import serializers

from pipsystem import l10n


class BatchSerializer(serializers.Serializer):
    source = serializers.CharField(
        max_length=64, help_text="The system the data comes from; created on first use."
    )
    label = serializers.CharField(
        max_length=255, required=False, default="", help_text="A name for the batch."
    )
    rows = serializers.ListField(
        child=serializers.DictField(),
        allow_empty=False,
        help_text=(
            "Objects {employee_id, date, kpi, value, weight}: employee ID as the exports carry "
            "it, ISO date, a KPI code or name, a number or text such as '85 %', '5:30' (m:ss), "
            "and optionally the calls or surveys behind the value. Values are checked by the "
            "loader, so a bad row gets the same reason a file upload would."
        ),
    )

    def validate_rows(self, rows: list[dict]) -> list[dict]:
        limit = settings.METRICS_API_MAX_ROWS
        if len(rows) > limit:
            raise serializers.ValidationError(
                gettext("At most %(limit)s rows per request; send the rest in further batches.")
                % {"limit": l10n.number(limit, 0)}
            )
        for number, row in enumerate(rows, start=1):
            for key, value in row.items():
                if not isinstance(value, str | int | float | bool | type(None)):
                    raise serializers.ValidationError(
                        gettext("row %(row)s, %(field)s: a number or text, not a list or an object")
                        % {"row": number, "field": key}
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
