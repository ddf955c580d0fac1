"""N browsers watching one rollout: opens N server-sent-event streams (round robin over the given
portal base URLs) and records when each `resource` event arrives on each stream.

    python live_watchers.py OUT.json TOKEN ROLLOUT N BASE_URL [BASE_URL...]

Writes {"connected_ms": when all N were open, "ended": streams that saw `end`, "errors": [...],
"received": {event id: [arrival ms, ...]}}. Standard library only (asyncio sockets): the
benchmark needs nothing the sandbox's venv does not have.
"""

import asyncio
import json
import sys
import time
from urllib.parse import urlsplit


def now_ms():
    return time.time() * 1000


async def watch(base, token, rollout, received, opened, done):
    url = urlsplit(base)
    reader, writer = await asyncio.open_connection(url.hostname, url.port)
    writer.write(
        (
            f"GET /api/rollouts/{rollout}/events HTTP/1.1\r\nHost: {url.netloc}\r\n"
            f"Authorization: Bearer {token}\r\nAccept: text/event-stream\r\nConnection: close\r\n\r\n"
        ).encode()
    )
    await writer.drain()
    status = await reader.readline()
    if b" 200 " not in status:
        raise RuntimeError(f"{base}: {status.decode().strip()}")
    opened.set_result(True) if not opened.done() else None
    event, ended = None, False
    # The body is chunked; chunk-size lines never start with "event:" / "id:", so reading lines
    # and keeping the SSE fields is enough here.
    while True:
        line = await reader.readline()
        if not line:
            break
        line = line.decode().rstrip("\r\n")
        if line.startswith("event: "):
            event = line[7:]
            if event == "end":
                ended = True
        elif line.startswith("id: ") and event == "resource":
            received.setdefault(int(line[4:]), []).append(now_ms())
        if ended and line.startswith("data: "):
            break
    writer.close()
    done.append(ended)


async def main():
    out, token, rollout, n = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    bases = sys.argv[5:]
    received, done, errors, tasks = {}, [], [], []
    for i in range(n):
        opened = asyncio.get_running_loop().create_future()
        task = asyncio.create_task(watch(bases[i % len(bases)], token, rollout, received, opened, done))
        tasks.append(task)
        await asyncio.wait([opened, task], return_when=asyncio.FIRST_COMPLETED)
    connected = now_ms()
    for result in await asyncio.gather(*tasks, return_exceptions=True):
        if isinstance(result, Exception):
            errors.append(str(result))
    with open(out, "w") as f:
        json.dump({"connected_ms": connected, "ended": sum(done), "errors": errors[:5], "received": received}, f)


asyncio.run(main())
