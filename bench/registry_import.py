"""Registry benchmark: a 10 k-row xlsx import with full validation (codes, credit codes, money,
units, duplicates in the file and in the database), written in one transaction.

    .venv/bin/python -m bench.registry_import [ROWS]

The unit directory is the gateway's demo directory, placed in the registry's one-minute
cache (no gateway runs here). Prints figures; asserts nothing.
"""

from __future__ import annotations

import asyncio
import io
import os
import sys
import time

from openpyxl import Workbook

from bench.harness import scratch_database

UNIT_NAMES = ["城关镇", "东河镇", "西山乡", "南川镇", "北岭乡", "青石镇", "县交通运输局", "县水利局"]


def workbook(rows: int) -> bytes:
    from services.registry.codes import org_code_check_char, uscc_check_char
    from services.registry.excel_columns import HEADERS

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("项目台账")
    ws.append(HEADERS)
    for i in range(rows):
        org = f"MA{i:06d}"
        body = f"91140521{org}{org_code_check_char(org)}"
        values = {h: None for h in HEADERS}
        values.update(
            {
                "项目代码": f"2023-140521-44-01-{i:06d}",
                "项目名称": f"基准导入项目{i}",
                "责任单位": UNIT_NAMES[i % len(UNIT_NAMES)],
                "项目承载单位": f"基准企业{i}有限公司",
                "统一社会信用代码": body + uscc_check_char(body),
                "包联领导": "韩振东",
                "工作专班": "基准专班",
                "推进方案": "按月调度",
                "类别": ["产业类", "基础设施类", "民生保障类"][i % 3],
                "总投资（万元）": f"{1000 + i % 90000}.{i % 10000:04d}",
                "政府投资": "是" if i % 2 else "否",
                "年度建设类型": "新开工" if i % 2 else "续建",
                "年度库入库日期": "2023-01-10",
                "重点项目级别": "县级" if i % 5 == 0 else None,
                "重点库入库日期": "2023-01-10" if i % 5 == 0 else None,
                "项目阶段": "开工",
                "阶段日期": "2023-03-01",
                "计划开工日期": "2023-03-01",
                "计划竣工日期": "2024-12-31",
                "标签": "基准;导入",
            }
        )
        ws.append([values[h] for h in HEADERS])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


async def main(rows: int) -> None:
    async with scratch_database("registry_import") as url:
        os.environ.update(KPP_DATABASE_URL=url, KPP_ENV="test", KPP_LOG_LEVEL="WARNING")
        from services.gateway.seed import DEMO_UNITS
        from services.registry import excel
        from shared.clients import units
        from shared.db import dispose_engine, job_session
        from shared.identity import Principal, Role

        directory = {u[0]: {"id": u[0], "name": u[1], "kind": u[2]} for u in DEMO_UNITS}
        units._cache = (time.monotonic() + 3600, directory)
        content = workbook(rows)
        print(f"workbook: {rows} rows, {len(content) / 1e6:.1f} MB")
        office = Principal(subject="bench", role=Role.key_office, unit_id="office-zdb")
        t0 = time.perf_counter()
        async with job_session() as session:
            parsed = excel.read_rows(content)
        t_read = time.perf_counter() - t0
        t0, cpu0 = time.perf_counter(), time.process_time()
        async with job_session() as session:
            result = await excel.import_projects(session, principal=office, content=content, partial=False)
        t_all, cpu = time.perf_counter() - t0, time.process_time() - cpu0
        print(f"xlsx read alone: {t_read:.2f} s ({len(parsed)} rows)")
        print(
            f"import (read + validate + write + commit): {t_all:.2f} s, "
            f"created {result['created']}, errors {len(result['errors'])}"
        )
        # this process's CPU alone (the database's work excluded): steadier when others load
        # the machine
        print(f"import CPU time of this process: {cpu:.2f} s; load average {os.getloadavg()[0]:.2f}")
        t0 = time.perf_counter()
        async with job_session() as session:
            try:
                await excel.import_projects(session, principal=office, content=content, partial=False)
            except Exception as exc:  # every row is now a duplicate: the refusal path
                print(
                    f"re-import of the same file refused in {time.perf_counter() - t0:.2f} s: "
                    f"{len(getattr(exc, 'extra', {}).get('errors', []))} row errors"
                )
        await dispose_engine()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000))
