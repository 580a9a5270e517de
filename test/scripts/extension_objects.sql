-- Every object of the lifecycle extension with its full definition, one line
-- each, sorted: what test/scripts/upgrade.sh compares between an updated and
-- a fresh install.  Functions by pg_get_functiondef (body, volatility,
-- strictness, parallel safety, settings), aggregates by their support
-- functions, relations by columns, defaults, constraints, indexes, triggers,
-- policies and privileges, types by their labels or attributes; and the
-- comment of every object and column.
WITH ext AS (
  SELECT oid FROM pg_catalog.pg_extension WHERE extname = 'lifecycle'
),
members AS (
  SELECT d.classid, d.objid
    FROM pg_catalog.pg_depend d, ext
   WHERE d.refclassid = 'pg_catalog.pg_extension'::regclass AND d.refobjid = ext.oid AND d.deptype = 'e'
),
defs AS (
  SELECT pg_catalog.pg_describe_object(m.classid, m.objid, 0) AS object,
         CASE m.classid
           WHEN 'pg_catalog.pg_proc'::regclass THEN
             (SELECT CASE WHEN p.prokind = 'a' THEN
                       (SELECT format('aggregate trans=%s final=%s combine=%s serial=%s deserial=%s stype=%s init=%s finalmodify=%s parallel=%s',
                                      a.aggtransfn, a.aggfinalfn, a.aggcombinefn, a.aggserialfn, a.aggdeserialfn,
                                      a.aggtranstype::regtype, a.agginitval, a.aggfinalmodify, p.proparallel)
                          FROM pg_catalog.pg_aggregate a WHERE a.aggfnoid = p.oid)
                     ELSE pg_catalog.pg_get_functiondef(p.oid) END
                     || ' acl=' || coalesce(p.proacl::text, '')
                FROM pg_catalog.pg_proc p WHERE p.oid = m.objid)
           WHEN 'pg_catalog.pg_class'::regclass THEN
             (SELECT format('kind=%s rls=%s force=%s acl=%s', c.relkind, c.relrowsecurity, c.relforcerowsecurity, c.relacl)
                     || coalesce(' view=' || pg_catalog.pg_get_viewdef(c.oid) , '')
                     || coalesce(' columns=' || (SELECT string_agg(format('%I %s%s%s comment=%s', a.attname,
                                                        pg_catalog.format_type(a.atttypid, a.atttypmod),
                                                        CASE WHEN a.attnotnull THEN ' not null' ELSE '' END,
                                                        coalesce(' default ' || pg_catalog.pg_get_expr(ad.adbin, ad.adrelid), ''),
                                                        pg_catalog.col_description(c.oid, a.attnum)), ', ' ORDER BY a.attnum)
                                                   FROM pg_catalog.pg_attribute a
                                                   LEFT JOIN pg_catalog.pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
                                                  WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped), '')
                     || coalesce(' constraints=' || (SELECT string_agg(k.conname || ' ' || pg_catalog.pg_get_constraintdef(k.oid), ', ' ORDER BY k.conname)
                                                       FROM pg_catalog.pg_constraint k WHERE k.conrelid = c.oid), '')
                     || coalesce(' indexes=' || (SELECT string_agg(pg_catalog.pg_get_indexdef(i.indexrelid), ', ' ORDER BY 1)
                                                   FROM pg_catalog.pg_index i WHERE i.indrelid = c.oid), '')
                     || coalesce(' triggers=' || (SELECT string_agg(pg_catalog.pg_get_triggerdef(t.oid), ', ' ORDER BY 1)
                                                    FROM pg_catalog.pg_trigger t WHERE t.tgrelid = c.oid AND NOT t.tgisinternal), '')
                     || coalesce(' policies=' || (SELECT string_agg(format('%s %s %s using=%s check=%s', po.polname, po.polcmd, po.polroles::regrole[],
                                                                           pg_catalog.pg_get_expr(po.polqual, po.polrelid),
                                                                           pg_catalog.pg_get_expr(po.polwithcheck, po.polrelid)), ', ' ORDER BY po.polname)
                                                    FROM pg_catalog.pg_policy po WHERE po.polrelid = c.oid), '')
                FROM pg_catalog.pg_class c WHERE c.oid = m.objid)
           WHEN 'pg_catalog.pg_type'::regclass THEN
             (SELECT format('type=%s acl=%s', t.typtype, t.typacl)
                     || coalesce(' labels=' || (SELECT string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder)
                                                  FROM pg_catalog.pg_enum e WHERE e.enumtypid = t.oid), '')
                     || coalesce(' domain=' || pg_catalog.format_type(t.typbasetype, t.typtypmod)
                                 || (SELECT coalesce(string_agg(pg_catalog.pg_get_constraintdef(k.oid), ', ' ORDER BY 1), '')
                                       FROM pg_catalog.pg_constraint k WHERE k.contypid = t.oid), '')
                FROM pg_catalog.pg_type t WHERE t.oid = m.objid)
           WHEN 'pg_catalog.pg_operator'::regclass THEN
             (SELECT format('operator %s commutator=%s negator=%s restrict=%s join=%s', o.oprcode, o.oprcom::regoperator,
                            o.oprnegate::regoperator, o.oprrest, o.oprjoin)
                FROM pg_catalog.pg_operator o WHERE o.oid = m.objid)
           WHEN 'pg_catalog.pg_cast'::regclass THEN
             (SELECT format('cast func=%s context=%s method=%s', c.castfunc::regprocedure, c.castcontext, c.castmethod)
                FROM pg_catalog.pg_cast c WHERE c.oid = m.objid)
           WHEN 'pg_catalog.pg_event_trigger'::regclass THEN
             (SELECT format('event trigger on %s func=%s enabled=%s tags=%s', e.evtevent, e.evtfoid::regprocedure,
                            e.evtenabled, e.evttags)
                FROM pg_catalog.pg_event_trigger e WHERE e.oid = m.objid)
           ELSE ''
         END AS definition,
         pg_catalog.obj_description(m.objid, m.classid::regclass::name) AS comment
    FROM members m
)
SELECT object || ' | ' || coalesce(definition, '?') || ' | comment=' || coalesce(comment, '')
  FROM defs
UNION ALL
SELECT 'config dump ' || c.oid::regclass::text || ' ' || coalesce(x.cond, '')
  FROM ext e JOIN pg_catalog.pg_extension p ON p.oid = e.oid,
       unnest(p.extconfig, p.extcondition) AS x(rel, cond)
       JOIN pg_catalog.pg_class c ON c.oid = x.rel
UNION ALL
SELECT 'schema lifecycle acl=' || coalesce(n.nspacl::text, '') || ' comment=' || coalesce(pg_catalog.obj_description(n.oid, 'pg_namespace'), '')
  FROM pg_catalog.pg_namespace n WHERE n.nspname = 'lifecycle'
ORDER BY 1;
