// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QString>
#include <QStringList>
#include <QUrl>

namespace greygate {

// Alert thresholds and the webhook (docs/greygated.md, "Alerts"): greygated
// --alert-webhook=URL and --alerts=KEY=VALUE,... (config file: alert-webhook, alerts).
// The defaults fire on a real spike and stay quiet on steady traffic of any volume.
struct AlertOptions
{
    bool enabled = true;
    // Deferral-rate spike: the deferrals of the last `deferralWindowMinutes` against the
    // average of the same span over the `deferralBaselineMinutes` before it.
    int deferralWindowMinutes = 5;
    int deferralBaselineMinutes = 60;
    double deferralFactor = 3.0;
    int deferralMinimum = 50; // never for fewer deferrals than this in the window
    // Failed-to-retry spike for one sender domain: its "Sender Failed to Retry" entries in
    // the last `failedWindowMinutes`, against its average per window over the baseline.
    int failedWindowMinutes = 60;
    int failedBaselineWindows = 6;
    double failedFactor = 3.0;
    int failedMinimum = 10;
    // Store trouble: failing (SQLite) or down (Redis) for this long.
    int storeGraceSeconds = 60;
    // The same alert (kind and subject) again only after this, while it lasts.
    int repeatMinutes = 30;

    // Webhook: HTTP POST of the alert as JSON; empty: none.
    QUrl webhook;
    int webhookTimeoutSeconds = 5;
    int webhookRetries = 5; // after the first try, with backoff 1, 2, 4... s
    int webhookMaxBackoffSeconds = 60;
    int webhookQueue = 100; // alerts waiting beyond this: the oldest is dropped

    // "deferral-factor=4,failed-minimum=20": false with *error naming the key.
    bool apply(const QString &settings, QString *error);
    bool setWebhook(const QString &url, QString *error);
    static QStringList keys(); // for the help text and the docs
};

} // namespace greygate
