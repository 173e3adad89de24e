// SPDX-License-Identifier: GPL-3.0-or-later
#include "MainWindow.h"

#include "NotificationBar.h"
#include "ProxyStatusBar.h"
#include "ScopeSelector.h"
#include "dialogs/AboutDialog.h"
#include "models/AlertFeed.h"
#include "pages/Page.h"
#include "settings/Settings.h"

#include <QApplication>
#include <QCloseEvent>
#include <QDeadlineTimer>
#include <QDir>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QMenuBar>
#include <QShortcut>
#include <QSplitter>
#include <QStackedWidget>
#include <QStatusBar>
#include <QSystemTrayIcon>
#include <QThread>
#include <QToolBar>
#include <QVBoxLayout>

namespace greygate {

MainWindow::MainWindow(ProxyRegistry &registry, Settings &settings, QWidget *parent)
    : QMainWindow(parent)
    , m_registry(registry)
    , m_settings(settings)
    , m_nav(new QListWidget(this))
    , m_stack(new QStackedWidget(this))
    , m_scope(new ScopeSelector(registry, this))
    , m_status(new ProxyStatusBar(registry, this))
{
    setObjectName(QStringLiteral("mainWindow"));
    setWindowTitle(tr("Greygate console"));
    setWindowIcon(QIcon(QStringLiteral(":/icons/greygate.png")));

    m_nav->setObjectName(QStringLiteral("navigation"));
    m_nav->setIconSize(QSize(20, 20));
    m_nav->setSpacing(1);
    m_nav->setMinimumWidth(170);
    m_nav->setMaximumWidth(260);
    connect(m_nav, &QListWidget::currentRowChanged, this, [this](int row) {
        if (row < 0 || row >= m_pages.size())
            return;
        m_stack->setCurrentIndex(row);
        if (m_pageRestored) // not while pages are added: the saved page is still to be shown
            m_settings.setValue(Settings::Key::LastPage, m_keys.at(row));
    });

    auto *splitter = new QSplitter(this);
    splitter->setObjectName(QStringLiteral("mainSplitter"));
    splitter->addWidget(m_nav);
    splitter->addWidget(m_stack);
    splitter->setStretchFactor(1, 1);
    splitter->setChildrenCollapsible(false);
    // Alerts (docs/console.md, "Alerts"): a desktop notification where the desktop has a
    // notification area, else the bar above the pages.
    auto *central = new QWidget(this);
    auto *column = new QVBoxLayout(central);
    column->setContentsMargins(0, 0, 0, 0);
    column->setSpacing(0);
    auto *notifications = new NotificationBar(central);
    column->addWidget(notifications);
    column->addWidget(splitter, 1);
    setCentralWidget(central);
    auto *alerts = new AlertFeed(registry, this);
    QSystemTrayIcon *tray = nullptr;
    if (QSystemTrayIcon::isSystemTrayAvailable() && QSystemTrayIcon::supportsMessages()) {
        tray = new QSystemTrayIcon(windowIcon(), this);
        tray->show();
    }
    connect(alerts, &AlertFeed::notify, this,
            [notifications, tray](const QString &title, const QString &text, bool cleared) {
                if (tray)
                    tray->showMessage(title, text,
                                      cleared ? QSystemTrayIcon::Information
                                              : QSystemTrayIcon::Warning);
                else
                    notifications->show(title, text, cleared);
            });
    const QByteArray splitterState =
        m_settings.mapValue(Settings::Key::SplitterStates, splitter->objectName()).toByteArray();
    if (!splitterState.isEmpty())
        splitter->restoreState(splitterState);
    connect(splitter, &QSplitter::splitterMoved, this, [this, splitter] {
        m_settings.setMapValue(Settings::Key::SplitterStates, splitter->objectName(),
                               splitter->saveState());
    });

    auto *top = addToolBar(tr("Scope"));
    top->setObjectName(QStringLiteral("scopeBar"));
    top->setMovable(false);
    top->addWidget(new QLabel(tr("Scope: "), top));
    top->addWidget(m_scope);
    connect(m_scope, &ScopeSelector::scopeChanged, this, &MainWindow::onScopeChanged);
    m_scope->setScope(m_settings.value(Settings::Key::Scope).toString());

    statusBar()->addPermanentWidget(m_status, 1);

    QMenu *file = menuBar()->addMenu(tr("&File"));
    file->addAction(tr("&Quit"), QKeySequence::Quit, this, &QWidget::close);
    m_pagesMenu = menuBar()->addMenu(tr("&Go"));
    QMenu *help = menuBar()->addMenu(tr("&Help"));
    help->addAction(tr("&About Greygate"), this, &MainWindow::showAbout);

    setupShortcuts();
    const QByteArray geometry = m_settings.value(Settings::Key::WindowGeometry).toByteArray();
    if (geometry.isEmpty() || !restoreGeometry(geometry))
        resize(1280, 800);
    QMainWindow::restoreState(m_settings.value(Settings::Key::WindowState).toByteArray());
}

MainWindow::~MainWindow() = default;

void MainWindow::addPage(const QString &key, Page *page)
{
    page->setObjectName(QStringLiteral("page-") + key);
    m_keys.append(key);
    m_pages.append(page);
    m_stack->addWidget(page);
    auto *item = new QListWidgetItem(page->icon(), page->title(), m_nav);
    const int number = int(m_pages.size());
    if (number <= 9)
        item->setToolTip(tr("%1 (Ctrl+%2)").arg(page->title()).arg(number));
    QAction *go = m_pagesMenu->addAction(page->icon(), page->title());
    if (number <= 9)
        go->setShortcut(QKeySequence(Qt::CTRL | Qt::Key(Qt::Key_0 + number)));
    go->setShortcutContext(Qt::WindowShortcut);
    connect(go, &QAction::triggered, this, [this, key] { showPage(key); });
    connect(page, &Page::openPageRequested, this, &MainWindow::showPage);
    page->setScope(m_scope->scope());
    if (m_nav->currentRow() < 0)
        m_nav->setCurrentRow(0);
}

Page *MainWindow::page(const QString &key) const
{
    const qsizetype i = m_keys.indexOf(key);
    return i < 0 ? nullptr : m_pages.at(i);
}

QString MainWindow::currentPageKey() const
{
    const int row = m_nav->currentRow();
    return row < 0 ? QString() : m_keys.at(row);
}

bool MainWindow::showPage(const QString &key)
{
    const qsizetype i = m_keys.indexOf(key);
    if (i < 0)
        return false;
    m_nav->setCurrentRow(int(i));
    return true;
}

void MainWindow::restoreState()
{
    if (!showPage(m_settings.value(Settings::Key::LastPage).toString()) && !m_keys.isEmpty())
        showPage(m_keys.first());
    m_pageRestored = true;
}

void MainWindow::setupShortcuts()
{
    auto *filter = new QShortcut(QKeySequence::Find, this);
    connect(filter, &QShortcut::activated, this, &MainWindow::focusFilter);
    auto *refresh = new QShortcut(QKeySequence::Refresh, this);
    connect(refresh, &QShortcut::activated, this, &MainWindow::refreshPage);
}

bool MainWindow::focusFilter()
{
    QWidget *current = m_stack->currentWidget();
    auto *edit = current ? current->findChild<QLineEdit *>(QStringLiteral("filter")) : nullptr;
    if (!edit)
        return false;
    edit->setFocus(Qt::ShortcutFocusReason);
    edit->selectAll();
    return true;
}

bool MainWindow::refreshPage()
{
    QWidget *current = m_stack->currentWidget();
    if (!current || current->metaObject()->indexOfMethod("refresh()") < 0)
        return false;
    return QMetaObject::invokeMethod(current, "refresh");
}

void MainWindow::onScopeChanged(const QString &proxyId)
{
    m_settings.setValue(Settings::Key::Scope, proxyId);
    for (Page *page : std::as_const(m_pages))
        page->setScope(proxyId);
}

bool MainWindow::grabPages(const QString &dir, int settleMs, QString *error)
{
    if (!QDir().mkpath(dir)) {
        *error = dir + QStringLiteral(": cannot create the folder");
        return false;
    }
    for (const QString &key : std::as_const(m_keys)) {
        showPage(key);
        // A page may stage what a screenshot should show (a selected row, an example):
        // a prepareScreenshot() slot, found by name like refresh().
        QWidget *current = m_stack->currentWidget();
        if (current->metaObject()->indexOfMethod("prepareScreenshot()") >= 0)
            QMetaObject::invokeMethod(current, "prepareScreenshot", Qt::QueuedConnection);
        const QDeadlineTimer settle(settleMs);
        while (!settle.hasExpired()) {
            QApplication::processEvents(QEventLoop::AllEvents, 50);
            QThread::msleep(10);
        }
        const QString path = dir + u'/' + key + QStringLiteral(".png");
        if (!grab().save(path)) {
            *error = path + QStringLiteral(": cannot write the screenshot");
            return false;
        }
    }
    return true;
}

void MainWindow::showAbout()
{
    AboutDialog dialog(m_registry, this);
    dialog.exec();
}

void MainWindow::closeEvent(QCloseEvent *event)
{
    m_settings.setValue(Settings::Key::WindowGeometry, saveGeometry());
    m_settings.setValue(Settings::Key::WindowState, saveState());
    QMainWindow::closeEvent(event);
}

} // namespace greygate
