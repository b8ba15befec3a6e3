import type { Kysely } from "kysely";
import type { Migration, MigrationProvider } from "kysely/migration";
import type { Dialect } from "../connect.js";
import * as foundation from "./001_foundation.js";
import * as vsphere from "./002_vsphere.js";
import * as cloudfoundry from "./003_cloudfoundry.js";
import * as vsphereDayIndex from "./004_vsphere_day_index.js";
import * as cfNormalized from "./005_cf_normalized.js";
import * as jobWeight from "./006_job_weight.js";
import * as telemetry from "./007_telemetry.js";
import * as inventoryDocuments from "./009_inventory_documents.js";
import * as cfEventColumns from "./010_cf_event_columns.js";
import * as cfEventBillIndex from "./011_cf_event_bill_index.js";

type DialectMigration = { up(db: Kysely<unknown>, dialect: Dialect): Promise<void> };

const ALL: Record<string, DialectMigration> = {
  "001_foundation": foundation,
  "002_vsphere": vsphere,
  "003_cloudfoundry": cloudfoundry,
  "004_vsphere_day_index": vsphereDayIndex,
  "005_cf_normalized": cfNormalized,
  "006_job_weight": jobWeight,
  "007_telemetry": telemetry,
  "009_inventory_documents": inventoryDocuments,
  "010_cf_event_columns": cfEventColumns,
  "011_cf_event_bill_index": cfEventBillIndex,
};

/** Migrations are code, bundled in order; each receives the dialect so DDL differences stay inside migrations/. */
export function migrationProvider(dialect: Dialect): MigrationProvider {
  return {
    async getMigrations() {
      const out: Record<string, Migration> = {};
      for (const [name, m] of Object.entries(ALL)) out[name] = { up: (db) => m.up(db, dialect) };
      return out;
    },
  };
}
