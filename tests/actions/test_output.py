import pytest

from aro.vm.errors import ActionError
from aro.vm.frame import UNBOUND


def test_log_sink_expressions_use_the_log_format(run):
    result = run(
        'Log "Hello" to the <console>.\n'
        "Log 2.5 to the <console>.\n"
        "Log [1, 2] to the <console>.\n"
        'Log { b: 1, a: "x" } to the <console>.\n'
        'Create the <user> with { name: "Ada" }.\n'
        "Log <user: name> to the <console>."
    )
    assert result.services.messages == ["Hello", "2.50", "[1, 2]", "a: x\nb: 1", "Ada"]
    assert {feature for feature, _, _ in result.services.logs} == {"Test"}


def test_log_the_result_variable_or_its_name(run):
    result = run(
        'Create the <message> with "hi".\n'
        "Log the <message> to the <console>.\n"
        "Log the <missing> to the <console>."
    )
    assert result.services.messages == ["hi", "missing"]


def test_log_streams(run):
    result = run(
        'Log "a" to the <console: error>.\n'
        'Log "b" to the <stderr>.\n'
        'Log "c" to the <console: output>.'
    )
    assert [stream for _, _, stream in result.services.logs] == ["stderr", "stderr", "stdout"]


def test_log_returns_nothing_to_bind(run):
    result = run('Log "x" to the <console>.')
    assert result.frame.find("_result_expression_") is UNBOUND


def test_log_to_template(last, services):
    with pytest.raises(ActionError):
        last('Print "x" to the <template>.')

    class TemplateServices(services):
        def __init__(self) -> None:
            super().__init__()
            self.template: list[str] = []

        def template_output(self, text: str) -> None:
            self.template.append(text)

    fake = TemplateServices()
    last('Print "x" to the <template>.', fake)
    assert fake.template == ["x"]
    assert fake.logs == []
