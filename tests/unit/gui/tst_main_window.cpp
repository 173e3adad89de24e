// SPDX-License-Identifier: GPL-3.0-or-later
// The main window: every page in the navigation list in order, Ctrl+1..9 switch pages,
// Ctrl+F reaches the page's filter, F5 its refresh, the scope reaches every page, the status
// bar has one indicator per proxy, the last page comes back after a restart, the About box
// names the versions.

#include "client/ProxyRegistry.h"
#include "dialogs/AboutDialog.h"
#include "pages/Page.h"
#include "settings/Settings.h"
#include "widgets/ConsolePages.h"
#include "widgets/MainWindow.h"
#include "widgets/ProxyStatusBar.h"
#include "widgets/Resources.h"
#include "widgets/ScopeSelector.h"

#include <QApplication>
#include <QLineEdit>
#include <QListWidget>
#include <QSignalSpy>
#include <QStackedWidget>
#include <QTemporaryDir>
#include <QTest>

using namespace greygate;

namespace {

struct Console
{
    QTemporaryDir dir;
    Settings settings{dir.filePath(QStringLiteral("console.json"))};
    ProxyRegistry registry;
    std::unique_ptr<MainWindow> window;

    void build()
    {
        window = std::make_unique<MainWindow>(registry, settings);
        ConsolePages::addAll(*window, registry, settings, nullptr, nullptr);
        window->restoreState();
        window->show();
        QApplication::setActiveWindow(window.get());
    }
};

} // namespace

class MainWindowTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() { initConsoleResources(); }
    void everyPageIsInTheNavigationListInOrder();
    void ctrlNumberSwitchesToThatPage_data();
    void ctrlNumberSwitchesToThatPage();
    void ctrlFFocusesThePagesFilter();
    void f5RefreshesThePage();
    void scopeReachesEveryPage();
    void statusBarShowsOneIndicatorPerProxy();
    void lastPageComesBackAfterARestart();
    void aboutNamesTheVersions();
};

void MainWindowTest::everyPageIsInTheNavigationListInOrder()
{
    Console c;
    c.build();
    const QStringList keys = ConsolePages::keys();
    QCOMPARE(c.window->pageKeys(), keys);
    for (const QString &required :
         {QStringLiteral("live"), QStringLiteral("queue"), QStringLiteral("policies"),
          QStringLiteral("groups"), QStringLiteral("autoallow"), QStringLiteral("proxies")})
        QVERIFY2(keys.contains(required), qPrintable(required));
    auto *nav = c.window->findChild<QListWidget *>(QStringLiteral("navigation"));
    QVERIFY(nav);
    QCOMPARE(nav->count(), keys.size());
    for (int i = 0; i < keys.size(); ++i) {
        Page *page = c.window->page(keys.at(i));
        QVERIFY(page);
        QCOMPARE(nav->item(i)->text(), page->title());
        QVERIFY2(!page->icon().isNull(), qPrintable(keys.at(i)));
        QVERIFY(c.window->showPage(keys.at(i)));
        QCOMPARE(c.window->currentPageKey(), keys.at(i));
        QVERIFY(page->isVisible());
    }
}

void MainWindowTest::ctrlNumberSwitchesToThatPage_data()
{
    QTest::addColumn<int>("number");
    for (int n = 1; n <= 9; ++n)
        QTest::addRow("Ctrl+%d", n) << n;
}

void MainWindowTest::ctrlNumberSwitchesToThatPage()
{
    QFETCH(int, number);
    Console c;
    c.build();
    const QStringList keys = c.window->pageKeys();
    if (number > keys.size())
        QSKIP("fewer pages than this shortcut (the analysis pages are not in the tree)");
    c.window->showPage(keys.at(number == 1 ? 1 : 0));
    QTest::keyClick(c.window.get(), Qt::Key(Qt::Key_0 + number), Qt::ControlModifier);
    QCOMPARE(c.window->currentPageKey(), keys.at(number - 1));
}

void MainWindowTest::ctrlFFocusesThePagesFilter()
{
    Console c;
    c.build();
    QVERIFY(c.window->showPage(QStringLiteral("live")));
    auto *filter =
        c.window->page(QStringLiteral("live"))->findChild<QLineEdit *>(QStringLiteral("filter"));
    QVERIFY(filter);
    QVERIFY(!filter->hasFocus());
    QTest::keyClick(c.window.get(), Qt::Key_F, Qt::ControlModifier);
    QTRY_VERIFY(filter->hasFocus());
    // The proxies page has no filter: Ctrl+F there does nothing and says so.
    QVERIFY(c.window->showPage(QStringLiteral("proxies")));
    QVERIFY(!c.window->focusFilter());
}

void MainWindowTest::f5RefreshesThePage()
{
    Console c;
    c.build();
    for (const QString &key : {QStringLiteral("live"), QStringLiteral("queue"),
                               QStringLiteral("policies"), QStringLiteral("proxies")}) {
        QVERIFY(c.window->showPage(key));
        QVERIFY2(c.window->refreshPage(), qPrintable(key));
    }
    QVERIFY(c.window->showPage(QStringLiteral("live")));
    QTest::keyClick(c.window.get(), Qt::Key_F5);
    QCOMPARE(c.window->currentPageKey(), QStringLiteral("live")); // and nothing else moved
}

void MainWindowTest::scopeReachesEveryPage()
{
    Console c;
    c.build();
    ProxyEndpoint e;
    e.name = QStringLiteral("mx1");
    e.url = QUrl(QStringLiteral("ws://127.0.0.1:9"));
    const QString id = c.registry.add(e, false);
    ScopeSelector *scope = c.window->scopeSelector();
    QCOMPARE(scope->count(), 2); // all proxies, mx1
    scope->setScope(id);
    for (const QString &key : c.window->pageKeys())
        QCOMPARE(c.window->page(key)->scope(), id);
    QCOMPARE(c.settings.value(Settings::Key::Scope).toString(), id);
    c.registry.remove(id);
    QTRY_COMPARE(scope->count(), 1);
    QCOMPARE(scope->scope(), QString()); // back to all
    for (const QString &key : c.window->pageKeys())
        QCOMPARE(c.window->page(key)->scope(), QString());
}

void MainWindowTest::statusBarShowsOneIndicatorPerProxy()
{
    Console c;
    c.build();
    ProxyEndpoint a;
    a.name = QStringLiteral("alpha");
    a.url = QUrl(QStringLiteral("ws://127.0.0.1:9"));
    ProxyEndpoint b = a;
    b.name = QStringLiteral("beta");
    const QString ida = c.registry.add(a, false);
    const QString idb = c.registry.add(b, false);
    QCOMPARE(c.window->proxyStatus()->indicatorText(ida), QStringLiteral("alpha: disconnected"));
    QCOMPARE(c.window->proxyStatus()->indicatorText(idb), QStringLiteral("beta: disconnected"));
    QCOMPARE(ProxyStatusBar::stateText(ProxyConnection::State::Refused,
                                       QStringLiteral("the certificate changed")),
             QStringLiteral("certificate changed"));
    QCOMPARE(ProxyStatusBar::stateText(ProxyConnection::State::Reconnecting, {}),
             QStringLiteral("reconnecting"));
    // A closed port: the connection tries, fails and says it will retry.
    c.registry.connection(ida)->open();
    QTRY_VERIFY_WITH_TIMEOUT(c.window->proxyStatus()->indicatorText(ida) ==
                                 QStringLiteral("alpha: reconnecting"),
                             10'000);
    c.registry.remove(ida);
    QTRY_COMPARE(c.window->proxyStatus()->indicatorText(ida), QString());
    QCOMPARE(c.window->proxyStatus()->indicatorText(idb), QStringLiteral("beta: disconnected"));
}

void MainWindowTest::lastPageComesBackAfterARestart()
{
    Console c;
    c.build();
    QVERIFY(c.window->showPage(QStringLiteral("groups")));
    c.window->close();
    c.window.reset();
    c.build();
    QCOMPARE(c.window->currentPageKey(), QStringLiteral("groups"));
}

void MainWindowTest::aboutNamesTheVersions()
{
    Console c;
    ProxyEndpoint e;
    e.name = QStringLiteral("mx<1>");
    e.url = QUrl(QStringLiteral("ws://127.0.0.1:9"));
    c.registry.add(e, false);
    const QString html = AboutDialog::versionsHtml(c.registry);
    QVERIFY(html.contains(QString::fromLatin1(qVersion())));
    QVERIFY(html.contains(QStringLiteral(GREYGATE_VERSION)));
    QVERIFY(html.contains(QStringLiteral("mx&lt;1&gt;"))); // escaped
    QVERIFY(html.contains(QStringLiteral("not connected")));
}

QTEST_MAIN(MainWindowTest)
#include "tst_main_window.moc"
