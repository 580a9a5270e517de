/*
 * orderlog.c
 *	  The trigger that logs the order rows an INSERT adds, for the next
 *	  refresh of a segment view to fold into its kept summaries.
 *
 * The log (<view>_log) must hold exactly the rows inserted into the orders:
 * a row in it is counted in the view.  So it is not writable by whoever may
 * insert orders: the trigger writes it as the owner of the orders, as
 * PostgreSQL's foreign-key triggers act as the owner of the table they
 * check.  That role may write the orders anyway, so it gains nothing.  If it
 * may not write the log (the orders changed owner, or the log is gone), the
 * trigger marks the view for a refresh that reads every order instead: an
 * INSERT never fails for the log's sake.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/regproc.h"
#include "utils/rel.h"

#include "compat.h"
#include "customers.h"

/* The log's copy of the inserted rows: its customer, time and amount columns. */
static void
copy_inserted_rows(TriggerData *trigdata, Oid log, const char *const *columns)
{
	const char *sql = psprintf("INSERT INTO %s SELECT n.%s, n.%s, n.%s FROM %s n", relation_sql_name(log),
							   quote_identifier(columns[0]), quote_identifier(columns[1]),
							   quote_identifier(columns[2]), quote_identifier(trigdata->tg_trigger->tgnewtable));

	if (SPI_register_trigger_data(trigdata) != SPI_OK_TD_REGISTER)
		elog(ERROR, "could not register the inserted rows");
	if (SPI_execute(sql, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "could not log the inserted order rows");
}

/* Mark the view for a refresh that reads every order. */
static void
mark_full_read(const char *view_name)
{
	Oid			type = TEXTOID;
	Datum		view = CStringGetTextDatum(view_name);

	if (SPI_execute_with_args("INSERT INTO lifecycle.order_changes (view_name, full_read) VALUES ($1, true)",
							  1, &type, &view, NULL, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "could not mark the segment view for a full read");
}

PG_FUNCTION_INFO_V1(log_order_inserts);
/*
 * Trigger lifecycle._log_order_inserts(view_name, log, customer_column,
 * time_column, amount_column), AFTER INSERT FOR EACH STATEMENT with a NEW
 * TABLE: copy the inserted rows' customer, time and amount into the log, as
 * the owner of the orders.
 */
Datum
log_order_inserts(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	Trigger    *trigger;
	Oid			owner;
	Oid			log;
	Oid			save_userid;
	int			save_sec_context;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_BY_INSERT(trigdata->tg_event) ||
		!TRIGGER_FIRED_FOR_STATEMENT(trigdata->tg_event) || !TRIGGER_FIRED_AFTER(trigdata->tg_event) ||
		trigdata->tg_trigger->tgnewtable == NULL || trigdata->tg_trigger->tgnargs != 5)
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("lifecycle._log_order_inserts must be fired AFTER INSERT FOR EACH STATEMENT with a NEW TABLE and five arguments")));
	trigger = trigdata->tg_trigger;
	owner = RelationGetForm(trigdata->tg_relation)->relowner;
	log = RangeVarGetRelid(makeRangeVarFromNameList(string_to_qualified_name_list(trigger->tgargs[1])), NoLock, true);

	GetUserIdAndSecContext(&save_userid, &save_sec_context);
	SetUserIdAndSecContext(owner, save_sec_context | SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (OidIsValid(log) && pg_class_aclcheck(log, owner, ACL_INSERT) == ACLCHECK_OK)
		copy_inserted_rows(trigdata, log, (const char *const *) &trigger->tgargs[2]);
	else
		mark_full_read(trigger->tgargs[0]);
	SPI_finish();
	SetUserIdAndSecContext(save_userid, save_sec_context);
	return PointerGetDatum(NULL);
}
