import { resolve } from "node:path";
import type { AppContext } from "../app/context.js";
import { listReports, writeDailyReport, writeHourlyReport, writeMonthlyReport } from "../reports/vsphere-reports.js";
import type { ReportWriter } from "./service.js";

export function reportsDir(ctx: AppContext): string {
  return ctx.settings.settings.reports_dir || resolve(ctx.settings.data_dir, "reports");
}

/** Counts the files in reports_dir for vctp_reports_available. */
export async function refreshReportCount(ctx: AppContext): Promise<number> {
  const count = (await listReports(reportsDir(ctx))).length;
  ctx.metrics.vctp.reportsAvailable.set(count);
  return count;
}

/**
 * Writes the XLSX (and CSV) report that follows a snapshot or an aggregation into reports_dir. A report that
 * cannot be written is logged and counted out; it never undoes the aggregation it describes.
 */
export function reportWriter(ctx: AppContext): ReportWriter {
  const dir = reportsDir(ctx);
  return async (kind, period) => {
    try {
      const db = ctx.database.db;
      const file =
        kind === "hourly"
          ? await writeHourlyReport(db, { snapshotTime: Number(period), dir })
          : kind === "daily"
            ? await writeDailyReport(db, { day: period, dir })
            : await writeMonthlyReport(db, { month: period, dir });
      await refreshReportCount(ctx);
      return [file, file.replace(/\.xlsx$/, ".csv")];
    } catch (err) {
      ctx.log.error({ err, kind, period }, "report could not be written");
      return [];
    }
  };
}
