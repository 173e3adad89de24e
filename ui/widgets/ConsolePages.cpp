// SPDX-License-Identifier: GPL-3.0-or-later
#include "ConsolePages.h"

#include "MainWindow.h"
#include "pages/AutoAllowPage.h"
#include "pages/GroupsPage.h"
#include "pages/LivePage.h"
#include "pages/PoliciesPage.h"
#include "pages/ProxiesPage.h"
#include "pages/QueuePage.h"
#if __has_include("pages/ReleasesPage.h")
#include "pages/DelayPage.h"
#include "pages/ReleasesPage.h"
#define GREYGATE_HAVE_RELEASES
#endif
#if __has_include("pages/PoolRetryPage.h")
#include "pages/PoolRetryPage.h"
#define GREYGATE_HAVE_POOL_RETRIES
#endif
#if __has_include("pages/SenderRewritePage.h")
#include "pages/SenderRewritePage.h"
#define GREYGATE_HAVE_SENDER_REWRITING
#endif
#if __has_include("pages/TriagePage.h")
#include "pages/TriagePage.h"
#define GREYGATE_HAVE_TRIAGE
#endif

// console-analysis's pages, built in parallel: each joins the window once it exists.
#if __has_include("pages/DashboardPage.h")
#include "pages/DashboardPage.h"
#define GREYGATE_HAVE_DASHBOARD 1
#endif
#if __has_include("pages/RejectionsPage.h")
#include "pages/RejectionsPage.h"
#define GREYGATE_HAVE_REJECTIONS 1
#endif
#if __has_include("pages/ReportsPage.h")
#include "pages/ReportsPage.h"
#define GREYGATE_HAVE_REPORTS 1
#endif

namespace greygate {

QStringList ConsolePages::keys()
{
    QStringList k;
#ifdef GREYGATE_HAVE_DASHBOARD
    k << QStringLiteral("dashboard");
#endif
    k << QStringLiteral("live") << QStringLiteral("queue") << QStringLiteral("policies")
      << QStringLiteral("groups") << QStringLiteral("autoallow");
#ifdef GREYGATE_HAVE_REJECTIONS
    k << QStringLiteral("rejections");
#endif
#ifdef GREYGATE_HAVE_TRIAGE
    k << QStringLiteral("triage");
#endif
#ifdef GREYGATE_HAVE_RELEASES
    k << QStringLiteral("releases") << QStringLiteral("delay");
#endif
#ifdef GREYGATE_HAVE_POOL_RETRIES
    k << QStringLiteral("poolretries");
#endif
#ifdef GREYGATE_HAVE_SENDER_REWRITING
    k << QStringLiteral("rewriting");
#endif
#ifdef GREYGATE_HAVE_REPORTS
    k << QStringLiteral("reports");
#endif
    k << QStringLiteral("proxies");
    return k;
}

void ConsolePages::addAll(MainWindow &window, ProxyRegistry &registry, Settings &settings,
                          ProxyBook *book, EngineControl *engine)
{
    QWidget *parent = &window;
#ifdef GREYGATE_HAVE_DASHBOARD
    window.addPage(QStringLiteral("dashboard"), new DashboardPage(registry, parent));
#endif
    window.addPage(QStringLiteral("live"), new LivePage(registry, settings, parent));
    window.addPage(QStringLiteral("queue"), new QueuePage(registry, settings, parent));
    window.addPage(QStringLiteral("policies"), new PoliciesPage(registry, settings, parent));
    window.addPage(QStringLiteral("groups"), new GroupsPage(registry, settings, parent));
    window.addPage(QStringLiteral("autoallow"), new AutoAllowPage(registry, settings, parent));
#ifdef GREYGATE_HAVE_REJECTIONS
    window.addPage(QStringLiteral("rejections"), new RejectionsPage(registry, parent));
#endif
#ifdef GREYGATE_HAVE_TRIAGE
    window.addPage(QStringLiteral("triage"), new TriagePage(registry, parent));
#endif
#ifdef GREYGATE_HAVE_RELEASES
    window.addPage(QStringLiteral("releases"), new ReleasesPage(registry, settings, parent));
    window.addPage(QStringLiteral("delay"), new DelayPage(registry, settings, parent));
#endif
#ifdef GREYGATE_HAVE_POOL_RETRIES
    window.addPage(QStringLiteral("poolretries"), new PoolRetryPage(registry, parent));
#endif
#ifdef GREYGATE_HAVE_SENDER_REWRITING
    window.addPage(QStringLiteral("rewriting"), new SenderRewritePage(registry, parent));
#endif
#ifdef GREYGATE_HAVE_REPORTS
    window.addPage(QStringLiteral("reports"), new ReportsPage(registry, parent));
#endif
    window.addPage(QStringLiteral("proxies"),
                   new ProxiesPage(registry, settings, book, engine, parent));
}

} // namespace greygate
