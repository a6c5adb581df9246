# The load suite shares the integration stack fixtures.
from tests.integration.conftest import assets, client, stack  # noqa: F401
