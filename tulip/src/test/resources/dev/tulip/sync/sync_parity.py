# The same program as AsyncioParityTest.program(), on CPython's asyncio: prints its trace, one event per line.
import asyncio

async def main():
    log = []
    lock = asyncio.Lock()
    ev = asyncio.Event()
    sem = asyncio.Semaphore(2)
    q = asyncio.Queue()
    cond = asyncio.Condition()
    ready = []

    async def worker(i):
        await ev.wait()
        log.append(f"w{i} event")
        async with sem:
            log.append(f"w{i} sem in")
            await asyncio.sleep(0)
            async with lock:
                log.append(f"w{i} lock")
                await asyncio.sleep(0)
            log.append(f"w{i} sem out")
        await q.put(i)
        log.append(f"w{i} put")
        async with cond:
            ready.append(i)
            cond.notify()
        log.append(f"w{i} notified")

    async def consumer():
        for _ in range(4):
            item = await q.get()
            log.append(f"got {item}")
            await asyncio.sleep(0)
            q.task_done()

    async def watcher():
        async with cond:
            await cond.wait_for(lambda: len(ready) == 4)
            log.append(f"ready {ready}")

    tasks = [asyncio.create_task(worker(i)) for i in range(4)]
    c = asyncio.create_task(consumer())
    w = asyncio.create_task(watcher())
    await asyncio.sleep(0)
    log.append("set")
    ev.set()
    await tasks[0]
    log.append("w0 done")
    await q.join()
    log.append("joined")
    for t in tasks + [c, w]:
        await t
    print("\n".join(log))

asyncio.run(main())
