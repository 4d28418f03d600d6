# The programs of TaskAsyncioParityTest, in asyncio. Prints one JSON list per program.
import asyncio
import json


def b(x):
    return str(x).lower()


async def steps():
    log = []
    loop = asyncio.get_running_loop()

    async def child(n, fut):
        log.append(f"start{n}")
        await asyncio.sleep(0)
        log.append(f"mid{n}")
        v = await fut
        log.append(f"got{n}:{v}")
        await asyncio.sleep(0)
        log.append(f"end{n}")
        return n

    f = loop.create_future()
    t1 = asyncio.create_task(child(1, f))
    loop.call_soon(lambda: log.append("cb1"))
    t2 = asyncio.create_task(child(2, f))
    f.add_done_callback(lambda _: log.append("fdone"))
    log.append("main")
    await asyncio.sleep(0)
    log.append("main2")
    loop.call_soon(lambda: (log.append("set"), f.set_result("v")))
    await asyncio.sleep(0)
    log.append("main3")
    log.append(f"t1={await t1}")
    await t2
    log.append("done")
    return log


async def cancellation():
    log = []

    async def worker():
        me = asyncio.current_task()
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError as e:
            log.append(f"w caught {e.args[0] if e.args else None} cancelling={me.cancelling()}")
            me.uncancel()
        log.append("w continues")
        await asyncio.sleep(0)
        log.append("w end")
        return "w"

    t = asyncio.create_task(worker())
    await asyncio.sleep(0)
    log.append(f"cancel -> {b(t.cancel('m1'))}")
    log.append(f"cancelling={t.cancelling()}")
    r = await t
    log.append(f"r={r} cancelled={b(t.cancelled())} cancel-after={b(t.cancel())}")

    async def sleeper(name):
        try:
            await asyncio.sleep(10)
        finally:
            log.append(f"{name} unwound")

    s1 = asyncio.create_task(sleeper("s1"))
    s2 = asyncio.create_task(sleeper("s2"))
    await asyncio.sleep(0)
    s2.cancel()
    s1.cancel()
    for s in (s1, s2):
        try:
            await s
        except asyncio.CancelledError:
            log.append(f"awaited cancelled {s is s1 and 's1' or 's2'}")
    return log


async def main():
    print(json.dumps(await steps()))
    print(json.dumps(await cancellation()))


asyncio.run(main())
