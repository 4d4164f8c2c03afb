"""Sparkplug B DataSet and Template metrics: encoded and decoded, and read as readings instead of skipped."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.errors import InvalidMessage, RejectReason
from core.sparkplug import (
    DataSet,
    DataType,
    MessageType,
    Metric,
    Payload,
    Template,
    birth_payload,
    decode_payload,
    encode_payload,
    to_ms,
)
from core.sparkplug_proto import facmon_sparkplug_b_pb2
from tests.collector.test_sparkplug import NOW, born, decoder, send

HYDRAULICS = Template((Metric("flow_m3h", None, DataType.DOUBLE, 28.5),
                       Metric("Seal", None, DataType.TEMPLATE,
                              Template((Metric("suction_bar", None, DataType.FLOAT, 1.25),), "Seal")),
                       Metric("colour", None, DataType.STRING, "blue")), "Hydraulics", version="v2")
LOG = DataSet(("timestamp", "bearing_temp_c", "running"), (DataType.DATETIME, DataType.FLOAT, DataType.BOOLEAN),
              ((to_ms(NOW - timedelta(seconds=20)), 41.5, True), (to_ms(NOW - timedelta(seconds=10)), 42.0, False)))


def test_datasets_and_templates_round_trip() -> None:
    payload = Payload(to_ms(NOW), (Metric("log", 7, DataType.DATASET, LOG),
                                   Metric("pump", 8, DataType.TEMPLATE, HYDRAULICS),
                                   Metric("Hydraulics", None, DataType.TEMPLATE,
                                          Template((Metric("flow_m3h", None, DataType.DOUBLE, 0.0),),
                                                   is_definition=True))), 4)
    assert decode_payload(encode_payload(payload)) == payload


def test_a_template_instance_becomes_its_members_readings_and_a_definition_none() -> None:
    decode = decoder()
    born(decode)
    definition = Metric("Hydraulics", None, DataType.TEMPLATE,
                        Template((Metric("flow_m3h", None, DataType.DOUBLE, 99.0),), is_definition=True))
    data = Payload(to_ms(NOW), (definition, Metric("Station/pump", None, DataType.TEMPLATE, HYDRAULICS)), 2)
    readings = send(decode, MessageType.DDATA, data).readings
    assert [(r.at, r.metrics) for r in readings] == [(NOW, {"flow_m3h": 28.5, "suction_bar": 1.25})]
    assert decode.stats()["sparkplug_unmapped_metrics"]["Station/pump/colour"] == 1


def test_a_template_by_alias_from_the_birth_is_read_too() -> None:
    decode = decoder()
    send(decode, MessageType.NBIRTH, birth_payload([], 0, NOW, bd_seq=3))
    birth = send(decode, MessageType.DBIRTH, birth_payload([Metric("pump", 9, DataType.TEMPLATE, HYDRAULICS)], 1, NOW))
    assert birth.readings[0].metrics == {"flow_m3h": 28.5, "suction_bar": 1.25}
    later = Template((Metric("flow_m3h", None, DataType.DOUBLE, 30.0),), "Hydraulics")
    data = send(decode, MessageType.DDATA, Payload(to_ms(NOW), (Metric(None, 9, DataType.TEMPLATE, later),), 2))
    assert data.readings[0].metrics == {"flow_m3h": 30.0}


def test_a_dataset_gives_one_reading_per_row_at_its_timestamp_column() -> None:
    decode = decoder()
    born(decode)
    readings = send(decode, MessageType.DDATA, Payload(to_ms(NOW), (Metric("log", None, DataType.DATASET, LOG),),
                                                       2)).readings
    assert [(r.at, r.metrics) for r in readings] == [
        (NOW - timedelta(seconds=20), {"bearing_temp_c": 41.5, "running": True}),
        (NOW - timedelta(seconds=10), {"bearing_temp_c": 42.0, "running": False})]


def test_a_dataset_without_a_time_column_is_at_the_metrics_time() -> None:
    decode = decoder()
    born(decode)
    table = DataSet(("flow_m3h", "discharge_bar"), (DataType.DOUBLE, DataType.DOUBLE), ((20.0, 4.5),))
    metric = Metric("now", None, DataType.DATASET, table, to_ms(NOW - timedelta(seconds=5)))
    readings = send(decode, MessageType.DDATA, Payload(to_ms(NOW), (metric,), 2)).readings
    assert [(r.at, r.metrics) for r in readings] == [(NOW - timedelta(seconds=5),
                                                      {"flow_m3h": 20.0, "discharge_bar": 4.5})]


def test_a_string_cell_of_a_number_metric_is_wrong_type() -> None:
    decode = decoder()
    born(decode)
    table = DataSet(("flow_m3h",), (DataType.STRING,), (("fast",),))
    with pytest.raises(InvalidMessage) as error:
        send(decode, MessageType.DDATA, Payload(to_ms(NOW), (Metric("t", None, DataType.DATASET, table),), 2))
    assert error.value.reason == RejectReason.WRONG_TYPE


def test_a_dataset_whose_rows_do_not_fit_its_columns_is_invalid_sparkplug() -> None:
    message = facmon_sparkplug_b_pb2.Payload()
    metric = message.metrics.add()
    metric.name, metric.datatype = "bad", int(DataType.DATASET)
    metric.dataset_value.columns.extend(["flow_m3h", "discharge_bar"])
    metric.dataset_value.types.extend([int(DataType.DOUBLE)] * 2)
    metric.dataset_value.rows.add().elements.add().double_value = 1.0  # one cell for two columns
    with pytest.raises(InvalidMessage) as error:
        decode_payload(message.SerializeToString())
    assert error.value.reason == RejectReason.INVALID_SPARKPLUG
