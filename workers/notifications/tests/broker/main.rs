//! Notifications worker against the real local broker over SASL_SSL with SCRAM (started once per
//! run by `make test`) and real local provider servers (SMTP, webhook, SMS, push) on 127.0.0.1.
//! Each test uses its own topics, consumer group and servers.

mod crash;
mod flow;
mod horizon;
mod ordering;
mod retries;
mod support;
