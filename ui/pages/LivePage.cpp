// SPDX-License-Identifier: GPL-3.0-or-later
#include "LivePage.h"

#include "models/LiveAttemptsFilter.h"
#include "models/LiveAttemptsModel.h"
#include "models/ProxyCalls.h"
#include "settings/Settings.h"
#include "widgets/DataTable.h"
#include "widgets/ExplanationView.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDateTime>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QScrollBar>
#include <QSplitter>
#include <QVBoxLayout>

namespace greygate {

LivePage::LivePage(ProxyRegistry &registry, Settings &settings, QWidget *parent)
    : Page(parent)
    , m_registry(registry)
    , m_settings(settings)
    , m_model(new LiveAttemptsModel(registry, LiveAttemptsModel::kDefaultCapacity, this))
    , m_filter(new LiveAttemptsFilter(this))
    , m_table(new DataTable(QStringLiteral("live"), &settings, this))
    , m_text(new QLineEdit(this))
    , m_outcome(new QComboBox(this))
    , m_pause(new QCheckBox(tr("Pause"), this))
    , m_counts(new QLabel(this))
    , m_detail(new ExplanationView(this))
{
    m_filter->setSourceModel(m_model);
    m_table->setSourceModel(m_model, m_filter);
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->horizontalHeader()->setSectionResizeMode(QHeaderView::Interactive);
    m_table->setColumnWidth(LiveAttemptsModel::Time, 150);
    m_table->setColumnWidth(LiveAttemptsModel::Client, 130);
    m_table->setColumnWidth(LiveAttemptsModel::Sender, 220);
    m_table->setColumnWidth(LiveAttemptsModel::Recipient, 200);

    m_text->setObjectName(QStringLiteral("filter"));
    m_text->setPlaceholderText(tr("Filter: client, sender, recipient or reason (Ctrl+F)"));
    m_text->setClearButtonEnabled(true);
    connect(m_text, &QLineEdit::textChanged, m_filter, &LiveAttemptsFilter::setText);

    m_outcome->setObjectName(QStringLiteral("outcome"));
    m_outcome->addItem(tr("All outcomes"), QString());
    const QStringList outcomes = LiveAttemptsModel::outcomeNames();
    for (const QString &name : outcomes) {
        if (name != u"gap" && name != u"other")
            m_outcome->addItem(LiveAttemptsModel::outcomeLabel(name), name);
    }
    connect(m_outcome, &QComboBox::currentIndexChanged, this, [this] {
        const QString name = m_outcome->currentData().toString();
        m_filter->setOutcomes(name.isEmpty() ? QSet<QString>() : QSet<QString>{name});
    });

    m_pause->setObjectName(QStringLiteral("pause"));
    m_pause->setToolTip(tr("Stop adding rows; what arrives meanwhile is kept (up to the "
                           "table's size) and added when you resume"));
    connect(m_pause, &QCheckBox::toggled, m_model, &LiveAttemptsModel::setPaused);
    auto *clear = new QPushButton(tr("Clear"), this);
    clear->setObjectName(QStringLiteral("clear"));
    connect(clear, &QPushButton::clicked, m_model, &LiveAttemptsModel::clear);
    m_counts->setObjectName(QStringLiteral("counts"));

    auto *bar = new QHBoxLayout;
    bar->addWidget(m_text, 1);
    bar->addWidget(m_outcome);
    bar->addWidget(m_pause);
    bar->addWidget(clear);
    bar->addWidget(m_counts);

    m_detail->setMessage(tr("Select a row to see how the proxy decided it."));
    auto *split = new QSplitter(Qt::Vertical, this);
    split->setObjectName(QStringLiteral("liveSplitter"));
    split->addWidget(m_table);
    split->addWidget(m_detail);
    split->setStretchFactor(0, 3);
    split->setStretchFactor(1, 1);
    const QByteArray state =
        m_settings.mapValue(Settings::Key::SplitterStates, split->objectName()).toByteArray();
    if (!state.isEmpty())
        split->restoreState(state);
    connect(split, &QSplitter::splitterMoved, this, [this, split] {
        m_settings.setMapValue(Settings::Key::SplitterStates, split->objectName(),
                               split->saveState());
    });

    auto *layout = new QVBoxLayout(this);
    layout->addLayout(bar);
    layout->addWidget(split, 1);

    // Follow the tail: the scroll position is looked at when it moves and every 100 ms, not
    // on every batch, so 20,000 rows a second cost ten scrolls a second at most.
    connect(m_table->verticalScrollBar(), &QScrollBar::valueChanged, this, [this](int value) {
        m_following = value >= m_table->verticalScrollBar()->maximum() - 2;
    });
    connect(m_model, &LiveAttemptsModel::rowsFlushed, this, [this] { m_newRows = true; });
    connect(m_model, &LiveAttemptsModel::pausedChanged, this, &LivePage::updateCounts);
    m_followTimer.setInterval(100);
    connect(&m_followTimer, &QTimer::timeout, this, &LivePage::followTail);
    m_followTimer.start();

    connect(m_table->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
            &LivePage::showDetail);
    updateCounts();
}

void LivePage::setScope(const QString &proxyId)
{
    Page::setScope(proxyId);
    m_filter->setProxyId(proxyId);
}

void LivePage::followTail()
{
    if (!m_newRows)
        return;
    m_newRows = false;
    updateCounts();
    // The tail is the bottom only in arrival order (unsorted, or by time ascending).
    const int column = m_filter->sortColumn();
    const bool arrivalOrder = column < 0 || (column == LiveAttemptsModel::Time &&
                                             m_filter->sortOrder() == Qt::AscendingOrder);
    if (m_following && arrivalOrder && m_settings.value(Settings::Key::LiveFollowTail).toBool())
        m_table->scrollToBottom();
}

void LivePage::updateCounts()
{
    QString text = tr("%1 shown of %2").arg(m_filter->rowCount()).arg(m_model->rowCount());
    if (m_model->isPaused())
        text += tr(", %1 waiting").arg(m_model->pendingCount());
    if (m_model->droppedBeforeShown() > 0)
        text +=
            tr(", %1 not shown (paused past the table size)").arg(m_model->droppedBeforeShown());
    m_counts->setText(text);
}

void LivePage::prepareScreenshot()
{
    const int rows = m_filter->rowCount();
    if (rows > 0)
        m_table->selectRow(rows - 1);
}

void LivePage::refresh()
{
    updateCounts();
    showDetail();
}

void LivePage::showDetail()
{
    const QModelIndex current = m_table->currentIndex();
    if (!current.isValid()) {
        m_detail->setMessage(tr("Select a row to see how the proxy decided it."));
        return;
    }
    const int row = m_filter->mapToSource(current).row();
    const QJsonObject r = m_model->rowJson(row);
    if (r.isEmpty())
        return;
    const QString proxyId = r.value(u"proxy").toString();
    const ProxyEndpoint *endpoint = m_registry.endpoint(proxyId);
    const QString heading =
        tr("<b>%1</b> at %2 on %3<br>client %4, sender &lt;%5&gt;, recipient &lt;%6&gt;, "
           "attempt %7%8")
            .arg(LiveAttemptsModel::outcomeLabel(r.value(u"outcome").toString()).toHtmlEscaped(),
                 QDateTime::fromSecsSinceEpoch(r.value(u"time").toInteger()).toString(Qt::ISODate),
                 (endpoint ? endpoint->name : proxyId).toHtmlEscaped(),
                 r.value(u"client").toString().toHtmlEscaped(),
                 r.value(u"sender").toString().toHtmlEscaped(),
                 r.value(u"recipient").toString().toHtmlEscaped())
            .arg(r.value(u"attempts").toInt())
            .arg(r.value(u"reason").toString().isEmpty()
                     ? QString()
                     : QStringLiteral(", ") + r.value(u"reason").toString().toHtmlEscaped());
    if (r.value(u"outcome").toString() == u"gap" || r.value(u"client").toString().isEmpty()) {
        m_detail->setHtml(heading);
        return;
    }
    m_detail->setHtml(heading + tr("<p><i>Asking the proxy why…</i></p>"));
    const quint64 serial = ++m_explainSerial;
    // The explanation is of the policies as they are now, which may differ from when the
    // attempt was decided: said in the heading.
    const QJsonObject params{{QStringLiteral("client"), r.value(u"client")},
                             {QStringLiteral("sender"), r.value(u"sender")},
                             {QStringLiteral("recipient"), r.value(u"recipient")}};
    ProxyCalls::call(m_registry, proxyId, QStringLiteral("policy.explain"), params, this,
                     [this, serial, heading](const ProxyConnection::Reply &reply) {
                         if (serial != m_explainSerial)
                             return; // another row was selected meanwhile
                         if (!reply.ok) {
                             m_detail->setHtml(
                                 heading +
                                 QStringLiteral("<p style=\"color:#b00020\">%1</p>")
                                     .arg(ProxyCalls::describe(reply.error).toHtmlEscaped()));
                             return;
                         }
                         m_detail->setExplanation(
                             reply.result.toObject(),
                             heading + tr("<br><i>Explained with the policies in force now.</i>"));
                     });
}

} // namespace greygate
