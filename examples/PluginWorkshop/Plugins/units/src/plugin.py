"""Unit conversions for ARO, run in process by aro-py."""

from aro.plugin import PluginInput, action, qualifier

KILOMETRES_PER = {"miles": 1.609344, "kilometres": 1.0, "nautical-miles": 1.852}


@action("Convert")
def convert(call: PluginInput) -> dict:
    unit = call.with_.get("unit", "kilometres")
    if unit not in KILOMETRES_PER:
        raise ValueError(f"unknown unit {unit!r}")
    return {"value": call.number("data") / KILOMETRES_PER[unit], "unit": unit}


@qualifier("rounded", input_types=["Double", "Int"])
def rounded(value: float, params: object) -> float:
    return round(value, 2)
